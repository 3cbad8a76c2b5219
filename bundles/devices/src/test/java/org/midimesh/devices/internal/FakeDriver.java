package org.midimesh.devices.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.driver.Availability;
import org.midimesh.api.driver.ImmediatePlay;
import org.midimesh.api.driver.InputSink;
import org.midimesh.api.driver.MidiDriver;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.driver.PortListener;
import org.midimesh.api.midi.MidiMessage;

/** A driver for tests: ports are added and removed by the test, events go out on the caller's thread. */
final class FakeDriver implements MidiDriver {

    /** What an output was asked to play. */
    record Played(List<MidiMessage> messages, NodeId source) {
    }

    /** A port that records what it plays and lets the test produce input through its sink. */
    static class FakePort implements MidiPort {
        final String name;
        final DeviceType type;
        final List<Played> played = new CopyOnWriteArrayList<>();
        // Set by the registry, read by the test thread that produces.
        volatile InputSink sink;
        // Set by the test, run by play before it records (to throw, block or be slow); the volatile publishes it.
        volatile Runnable beforePlay = () -> { };
        // Set by the test, read by the registry.
        volatile Availability availability = Availability.AVAILABLE;

        FakePort(String name, DeviceType type) {
            this.name = name;
            this.type = type;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public DeviceType type() {
            return type;
        }

        @Override
        public void play(List<MidiMessage> messages, NodeId source) {
            if (type == DeviceType.INPUT) {
                throw new UnsupportedOperationException("input");
            }
            beforePlay.run();
            played.add(new Played(messages, source));
        }

        @Override
        public Availability availability() {
            return availability;
        }

        @Override
        public void setInputSink(InputSink sink) {
            this.sink = sink;
        }

        /** Produces as hardware would: through the sink, if any. */
        void produce(List<MidiMessage> messages) {
            InputSink s = sink;
            if (s != null) {
                s.produced(this, messages);
            }
        }

        @Override
        public String toString() {
            return type.wireName() + ":" + name;
        }
    }

    /** A port that promises its play returns at once (the registry may play it on the delivering thread). */
    static final class ImmediateFakePort extends FakePort implements ImmediatePlay {
        ImmediateFakePort(String name) {
            super(name, DeviceType.OUTPUT);
        }
    }

    private final String name;
    private final Object lock = new Object();
    // Written under lock, read by anyone: the immutable port list.
    private volatile List<MidiPort> ports = List.of();
    final List<PortListener> listeners = new CopyOnWriteArrayList<>();

    FakeDriver(String name) {
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public List<MidiPort> ports() {
        return ports;
    }

    @Override
    public void addPortListener(PortListener listener) {
        listeners.add(listener);
    }

    @Override
    public void removePortListener(PortListener listener) {
        listeners.remove(listener);
    }

    FakePort add(String portName, DeviceType type) {
        FakePort p = addSilently(portName, type);
        listeners.forEach(l -> l.portAdded(this, p));
        return p;
    }

    FakePort addSilently(String portName, DeviceType type) {
        return addSilently(new FakePort(portName, type));
    }

    /** Adds an output that is an {@link ImmediatePlay} port, without telling the listeners. */
    FakePort addImmediateOutputSilently(String portName) {
        return addSilently(new ImmediateFakePort(portName));
    }

    private FakePort addSilently(FakePort p) {
        synchronized (lock) {
            List<MidiPort> updated = new ArrayList<>(ports);
            updated.add(p);
            ports = List.copyOf(updated);
        }
        return p;
    }

    void remove(MidiPort p) {
        removeSilently(p);
        listeners.forEach(l -> l.portRemoved(this, p));
    }

    void removeSilently(MidiPort p) {
        synchronized (lock) {
            List<MidiPort> updated = new ArrayList<>(ports);
            updated.remove(p);
            ports = List.copyOf(updated);
        }
    }

    FakePort port(String portName, DeviceType type) {
        for (MidiPort p : ports) {
            if (p.name().equals(portName) && p.type() == type) {
                return (FakePort) p;
            }
        }
        throw new AssertionError("no port " + portName);
    }

    /** Like the virtual driver of a node called {@code node}: its default input, then output. */
    static FakeDriver virtual(String node) {
        FakeDriver d = new FakeDriver("virtual");
        d.addSilently(node + " In", DeviceType.INPUT);
        d.addSilently(node + " Out", DeviceType.OUTPUT);
        return d;
    }
}
