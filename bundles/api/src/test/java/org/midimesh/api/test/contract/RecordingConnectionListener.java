package org.midimesh.api.test.contract;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.connection.ConnectionListener;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.strategy.spi.EngineEvents;

/**
 * Records every callback with the connection, the thread it ran on and, optionally ({@link #checkingLocks()}), the
 * locks that thread held at the time. Also records an engine's events ({@link #asEngineEvents()}), with no connection.
 * Thread-safe; the recording itself takes no lock.
 */
public final class RecordingConnectionListener implements ConnectionListener {

    public enum Kind {
        STATE, ERROR, DEVICES
    }

    /**
     * One callback.
     *
     * @param heldLocks locks the callback thread held (empty, and not checked, unless made by {@link #checkingLocks()})
     */
    public record Call(Kind kind, NetworkConnection connection, ConnectionState from, ConnectionState to,
            String message, List<DeviceInfo> devices, String thread, List<String> heldLocks) {

        /** "FROM>TO", "error:message" or "devices:n". */
        public String what() {
            return switch (kind) {
                case STATE -> from + ">" + to;
                case ERROR -> "error:" + message;
                case DEVICES -> "devices:" + devices.size();
            };
        }
    }

    private final boolean checkLocks;
    private final ConcurrentLinkedQueue<Call> calls = new ConcurrentLinkedQueue<>();
    private final AtomicInteger count = new AtomicInteger();

    public RecordingConnectionListener() {
        this(false);
    }

    private RecordingConnectionListener(boolean checkLocks) {
        this.checkLocks = checkLocks;
    }

    /** A listener that also records which locks each callback's thread held (slow: tests only). */
    public static RecordingConnectionListener checkingLocks() {
        return new RecordingConnectionListener(true);
    }

    @Override
    public void stateChanged(NetworkConnection connection, ConnectionState from, ConnectionState to) {
        record(new Call(Kind.STATE, connection, from, to, null, null, thread(), held()));
    }

    @Override
    public void error(NetworkConnection connection, String message) {
        record(new Call(Kind.ERROR, connection, null, null, message, null, thread(), held()));
    }

    @Override
    public void devicesChanged(NetworkConnection connection, List<DeviceInfo> devices) {
        record(new Call(Kind.DEVICES, connection, null, null, null, List.copyOf(devices), thread(), held()));
    }

    /**
     * An {@link EngineEvents} that records into this listener, for tests of a strategy's engines without the strategy
     * manager: each event is recorded as a callback whose {@link Call#connection()} is null.
     */
    public EngineEvents asEngineEvents() {
        return new EngineEvents() {
            @Override
            public void stateChanged(ConnectionState from, ConnectionState to) {
                RecordingConnectionListener.this.stateChanged(null, from, to);
            }

            @Override
            public void error(String message) {
                RecordingConnectionListener.this.error(null, message);
            }

            @Override
            public void devicesChanged(List<DeviceInfo> devices) {
                RecordingConnectionListener.this.devicesChanged(null, devices);
            }
        };
    }

    private void record(Call call) {
        calls.add(call);
        count.incrementAndGet();
    }

    private static String thread() {
        return Thread.currentThread().getName();
    }

    private List<String> held() {
        return checkLocks ? HeldLocks.ofCurrentThread() : List.of();
    }

    /** Number of callbacks so far (cheap). */
    public int size() {
        return count.get();
    }

    /** Every callback so far, in order of arrival. */
    public List<Call> calls() {
        return List.copyOf(calls);
    }

    /** The callbacks about {@code connection} (by identity), in order of arrival. */
    public List<Call> callsOf(NetworkConnection connection) {
        List<Call> out = new ArrayList<>();
        for (Call c : calls) {
            if (c.connection() == connection) {
                out.add(c);
            }
        }
        return out;
    }

    /** {@link Call#what()} of every callback, in order. */
    public List<String> whats() {
        return calls.stream().map(Call::what).toList();
    }

    /** The state changes as "FROM>TO", in order. */
    public List<String> states() {
        return calls.stream().filter(c -> c.kind() == Kind.STATE).map(Call::what).toList();
    }

    /** The error messages, in order. */
    public List<String> errors() {
        return calls.stream().filter(c -> c.kind() == Kind.ERROR).map(Call::message).toList();
    }

    /** The announced device lists, in order. */
    public List<List<DeviceInfo>> deviceLists() {
        return calls.stream().filter(c -> c.kind() == Kind.DEVICES).map(Call::devices).toList();
    }
}
