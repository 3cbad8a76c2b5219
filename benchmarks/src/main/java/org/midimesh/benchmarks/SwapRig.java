package org.midimesh.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.strategy.StrategyChange;
import org.midimesh.api.strategy.StrategyControl;
import org.midimesh.api.strategy.SwapResult;
import org.midimesh.strategy.internal.ManagerHost;

/**
 * The setup of {@link SwapBenchmark}: the real strategy manager ({@link ManagerHost}) with both strategies of a swap
 * bound, {@code from} as the default, and N connections it opened, each to a peer of its own (its own node id and 16
 * devices; the handshaker answers at once), all CONNECTED on {@code from}. One {@link ConnectedRig.CountingLink} and
 * one {@link ConnectedRig.CountingListener} serve them all. Built, checked and closed on the JMH thread that runs the
 * benchmark (single-threaded); the manager and the strategies run their own threads.
 */
final class SwapRig implements AutoCloseable {

    /** How many failure lines an error message quotes at most. */
    private static final int FAILURES_QUOTED = 3;

    final String from;
    final String to;
    final int size;
    final ManagerHost host;
    final StrategyControl control;
    final List<NetworkConnection> connections;
    final ConnectedRig.CountingLink link = new ConnectedRig.CountingLink();
    final ConnectedRig.CountingListener listener = new ConnectedRig.CountingListener();

    private final StrategyFactory.Started fromStarted;
    private final StrategyFactory.Started toStarted;

    private SwapRig(String from, String to, int size, StrategyFactory.Started fromStarted,
            StrategyFactory.Started toStarted, ManagerHost host) {
        this.from = from;
        this.to = to;
        this.size = size;
        this.fromStarted = fromStarted;
        this.toStarted = toStarted;
        this.host = host;
        this.control = host.control();
        this.connections = new ArrayList<>(size);
    }

    /**
     * Starts both strategies and the manager, opens {@code size} connections and waits until all are CONNECTED on
     * {@code from}.
     *
     * @param logName the benchmark's name, for the strategies' log file
     * @throws IllegalStateException when that does not happen within 10 s plus 10 ms per connection
     */
    static SwapRig connect(String logName, String from, String to, int size) {
        if (size < 1) {
            throw new IllegalArgumentException("connections must be at least 1, not " + size);
        }
        StrategyLog.name(logName, from + "-to-" + to + "-" + size);
        StrategyFactory.Started a = StrategyFactory.start(from);
        StrategyFactory.Started b;
        try {
            b = StrategyFactory.start(to);
        } catch (RuntimeException | Error e) {
            a.stop().run();
            throw e;
        }
        ManagerHost host;
        try {
            host = ManagerHost.create(from);
        } catch (RuntimeException | Error e) {
            stopBoth(a, b);
            throw e;
        }
        SwapRig rig = new SwapRig(from, to, size, a, b, host);
        try {
            host.add(a.strategy(), 0);
            host.add(b.strategy(), 0);
            for (int i = 0; i < size; i++) {
                Handshake answer = new Handshake(ConnectedRig.peer(i), ConnectedRig.devices("p" + i));
                NetworkConnection c = rig.control.open(ConnectedRig.context(20_000 + i, answer, rig.link));
                rig.connections.add(c);
                c.addListener(rig.listener);
                c.connect();
            }
            rig.awaitAll(ConnectionState.CONNECTED, ConnectedRig.CONNECT_TIMEOUT_MS + 10L * size);
            rig.checkAllOn(from, "after setup");
            return rig;
        } catch (RuntimeException | Error e) {
            rig.close();
            throw e;
        }
    }

    /** The change the benchmark measures: {@code to} becomes the default. */
    StrategyChange forward() {
        return StrategyChange.toDefault(to);
    }

    /** The change that undoes it, outside the measurement. */
    StrategyChange back() {
        return StrategyChange.toDefault(from);
    }

    /**
     * Fails loudly unless {@code r} says that every connection moved without a failure, and every connection now runs
     * on {@code expected} and is still CONNECTED.
     *
     * @throws IllegalStateException naming what went wrong
     */
    void checkSwap(SwapResult r, String expected, String what) {
        if (r == null) {
            throw new IllegalStateException(what + ": no swap result (the benchmark method did not run?)");
        }
        if (r.migrated() != size || !r.failures().isEmpty()) {
            throw new IllegalStateException(what + " to " + expected + ": moved " + r.migrated() + " of " + size
                    + " connections in " + r.tookMs() + " ms, " + r.failures().size() + " failure(s)"
                    + (r.failures().isEmpty() ? "" : ": "
                    + r.failures().subList(0, Math.min(FAILURES_QUOTED, r.failures().size()))
                    + (r.failures().size() > FAILURES_QUOTED ? " ..." : "")));
        }
        checkAllOn(expected, what);
    }

    private void checkAllOn(String expected, String what) {
        for (int i = 0; i < connections.size(); i++) {
            NetworkConnection c = connections.get(i);
            String on = c.strategy();
            ConnectionState state = c.getState();
            if (!on.equals(expected) || state != ConnectionState.CONNECTED) {
                throw new IllegalStateException(what + ": connection " + i + " of " + size + " is " + state + " on "
                        + on + ", expected CONNECTED on " + expected);
            }
        }
    }

    private void awaitAll(ConnectionState expected, long timeoutMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        for (int i = 0; i < connections.size(); i++) {
            NetworkConnection c = connections.get(i);
            while (c.getState() != expected) {
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("connection " + i + " of " + size + " is " + c.getState()
                            + " on " + c.strategy() + ", not " + expected + ", after " + timeoutMs + " ms");
                }
                LockSupport.parkNanos(100_000);
            }
        }
    }

    /** One line for the JMH log: where the connections are, what the first one counted, what was logged. */
    String summary() {
        String where;
        try {
            where = "connections by strategy " + new java.util.TreeMap<>(control.status().connections());
        } catch (RuntimeException e) {
            where = "status unavailable (" + e + ")";
        }
        String first = connections.isEmpty() ? "" : " first: " + ConnectedRig.describe(connections.get(0));
        return "[" + from + "->" + to + " x" + size + "] " + where + first + " link.data=" + link.data.sum()
                + " listener.calls=" + listener.calls.sum() + "; " + StrategyLog.summary();
    }

    /** Closes the connections, stops the manager's threads, then both strategies'. */
    @Override
    public void close() {
        try {
            for (NetworkConnection c : connections) {
                c.close();
            }
        } finally {
            try {
                host.close();
            } finally {
                stopBoth(fromStarted, toStarted);
            }
        }
    }

    private static void stopBoth(StrategyFactory.Started a, StrategyFactory.Started b) {
        try {
            a.stop().run();
        } finally {
            b.stop().run();
        }
    }
}
