package org.midimesh.api.test.contract;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.midimesh.api.connection.ConnectionState.CONNECTED;
import static org.midimesh.api.connection.ConnectionState.CONNECTING;
import static org.midimesh.api.connection.ConnectionState.DISCONNECTED;
import static org.midimesh.api.connection.ConnectionState.FAILED;
import static org.midimesh.api.test.contract.FakePeers.checkWhole;
import static org.midimesh.api.test.contract.FakePeers.devices;
import static org.midimesh.api.test.contract.FakePeers.handshake;
import static org.midimesh.api.test.contract.FakePeers.numberOf;
import static org.midimesh.api.test.contract.FakePeers.numberedFrame;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.midimesh.api.DeviceInfo;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionListener;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.health.Warmable;
import org.midimesh.api.strategy.StrategyChange;
import org.midimesh.api.strategy.StrategyControl;
import org.midimesh.api.strategy.SwapResult;
import org.midimesh.api.strategy.spi.ConnectionEngine;
import org.midimesh.api.strategy.spi.ConnectionStrategy;
import org.midimesh.api.strategy.spi.Handover;
import org.midimesh.api.test.DeadlockWatchdog;
import org.midimesh.api.test.contract.RecordingConnectionListener.Call;
import org.midimesh.api.test.contract.RecordingConnectionListener.Kind;
import org.midimesh.api.transport.DataFrame;

/**
 * The contract every {@link ConnectionStrategy} keeps, as one suite run against each strategy (JCTools
 * {@code QueueSanityTest} style): a strategy module subclasses it and supplies {@link #newStrategy()},
 * {@link #shutdown(ConnectionStrategy)}, {@link #name()} and {@link #newHost(String)} (the strategy manager, from the
 * strategy bundle's test-jar); to run the hot-swap tests it also supplies {@link #otherStrategy()}. Behaviour only
 * some strategies have is declared by {@link #hasCommandQueue()} and {@link #isLockFree()} and gated with
 * assumptions, never with {@code if}.
 * <p>The suite has two levels. The connection level uses the strategy as the node does: every connection comes from
 * the manager ({@link StrategyControl#open}) and runs on an engine of the strategy under test. The hot-swap level
 * moves live connections between the strategy and {@link #otherStrategy()} through the manager (by changing the
 * default, or, for two strategies of one name, by ranking: blue/green) while producers send and listeners listen, and
 * checks the engine SPI directly where the manager relies on it.
 * <p>Besides the API Javadoc, the suite relies on these points of the contract:
 * <ul>
 * <li>commands issued by one thread take effect in that order, and listener callbacks of one connection arrive in the
 * order of the changes, on a thread of the strategy (never the caller's), with no lock held;</li>
 * <li>a disconnect, goodbye, close or inbound handshake during an outbound handshake wins over its late result;</li>
 * <li>{@code devicesChanged} follows a handshake that brings a device list different from the current one (the suite
 * uses a unique list as an ordering marker);</li>
 * <li>after {@link #shutdown} (as when the framework stops: nothing is moved) every connection the strategy ran reads
 * DISCONNECTED, refuses to send, ignores commands without throwing, and the strategy's {@code midimesh-*} threads
 * end;</li>
 * <li>a handover while CONNECTING ends CONNECTED once the peer answers: the predecessor finishes its handshake first,
 * or the successor runs one itself.</li>
 * </ul>
 * Tests named after the workplan carry its name in their display name. Every test has a {@link Timeout} hang guard
 * and runs under the {@link DeadlockWatchdog}. Nothing here asserts speed, except the two functional thresholds the
 * workplan states as requirements: 1000 queries per second on one connection, and more than one million queries a
 * minute from 100 threads in the full-length stress run. Achieved numbers are printed, prefixed
 * {@code [contract <name>]}.
 * <p>System property {@value #STRESS_SECONDS_PROPERTY}: how long the 100-thread stress test runs (default
 * {@value #DEFAULT_STRESS_SECONDS} s; the {@code stress} Maven profile sets 60, which also turns on the per-minute
 * threshold).
 */
@ExtendWith(DeadlockWatchdog.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public abstract class ConnectionStrategyContractTest {

    /** System property: seconds the 100-thread stress test runs. */
    public static final String STRESS_SECONDS_PROPERTY = "midimesh.stress.seconds";
    public static final long DEFAULT_STRESS_SECONDS = 10;
    /** Runs at least this long count as the workplan's full stress test, where its per-minute threshold applies. */
    public static final long FULL_STRESS_SECONDS = 60;

    /** Hang guard for every wait on an asynchronous effect; never a speed limit. */
    protected static final Duration WAIT = Duration.ofSeconds(20);

    private static final NodeId PEER = NodeId.parse("11111111-2222-3333-4444-555555555555");
    private static final String TEST_THREAD_PREFIX = "contract-";

    // ---- what a strategy module supplies --------------------------------------------------------------------------

    /** A new, started strategy; called at most once per test, on the test thread. */
    protected abstract ConnectionStrategy newStrategy();

    /** Stops a strategy this suite got from {@link #newStrategy()} (and, by default, {@link #otherStrategy()}). */
    protected abstract void shutdown(ConnectionStrategy strategy);

    /** The name the strategy reports: {@link ConnectionStrategy#name()} and {@link NetworkConnection#strategy()}. */
    protected abstract String name();

    /**
     * A new strategy manager, with no strategy yet, whose default strategy is {@code defaultStrategy} and whose policy
     * is manual; called at most once per test. The suite adds the strategies itself and closes the host after the test.
     */
    protected abstract StrategyHost newHost(String defaultStrategy);

    /**
     * A second, started strategy to hand connections over to and back (another instance of the same strategy will
     * do); {@code null}, the default, skips the handover tests. Called at most once per test.
     */
    protected ConnectionStrategy otherStrategy() {
        return null;
    }

    /** Stops what {@link #otherStrategy()} returned; by default {@link #shutdown(ConnectionStrategy)}. */
    protected void shutdownOther(ConnectionStrategy other) {
        shutdown(other);
    }

    /** True when commands run on a worker from a queue, so {@code commands_processed} and {@code queue_depth} move. */
    protected boolean hasCommandQueue() {
        return false;
    }

    /** True when queries take no lock, so {@code mutex_contentions} stays 0. */
    protected boolean isLockFree() {
        return false;
    }

    // ---- per-test state ---------------------------------------------------------------------------------------------

    private ConnectionStrategy strategy;
    private boolean strategyStopped;
    private ConnectionStrategy other;
    private StrategyHost host;
    private final List<ControllableHandshaker> handshakers = new ArrayList<>();
    private final List<Workers> workers = new ArrayList<>();
    private String testName = "?";

    @org.junit.jupiter.api.BeforeEach
    void rememberTestName(TestInfo info) {
        testName = info.getTestMethod().map(m -> m.getName()).orElse(info.getDisplayName());
    }

    @AfterEach
    void stopEverything() throws InterruptedException {
        for (Workers w : workers) {
            w.stopNow();
        }
        for (ControllableHandshaker h : handshakers) {
            h.shutdown();
        }
        try {
            if (host != null) {
                host.close();
            }
        } finally {
            try {
                if (other != null) {
                    shutdownOther(other);
                }
            } finally {
                if (strategy != null && !strategyStopped) {
                    shutdown(strategy);
                }
            }
        }
    }

    /** The manager, made on first use with the strategy under test available (ranking 0) and the default. */
    protected final StrategyHost host() {
        if (host == null) {
            host = newHost(name());
            assertNotNull(host, "newHost() returned null");
            host.add(strategy(), 0);
        }
        return host;
    }

    protected final StrategyControl control() {
        return host().control();
    }

    /** The strategy under test, made on first use. */
    protected final ConnectionStrategy strategy() {
        if (strategy == null) {
            strategy = newStrategy();
            assertNotNull(strategy, "newStrategy() returned null");
        }
        return strategy;
    }

    /** The second strategy for handovers; skips the test when there is none. */
    protected final ConnectionStrategy other() {
        if (other == null) {
            other = otherStrategy();
        }
        assumeTrue(other != null, "no otherStrategy(): handover tests skipped");
        return other;
    }

    private ControllableHandshaker track(ControllableHandshaker h) {
        handshakers.add(h);
        return h;
    }

    private NetworkConnection create(ControllableHandshaker h, RecordingPeerLink link) {
        return control().open(FakePeers.context(h, link));
    }

    private NetworkConnection create(ControllableHandshaker h, RecordingPeerLink link, Duration heartbeatTimeout) {
        return control().open(FakePeers.context(h, link, heartbeatTimeout));
    }

    /** A connection that the peer's inbound handshake has made CONNECTED, with {@code k} devices. */
    private NetworkConnection connected(RecordingPeerLink link, NodeId peer, List<DeviceInfo> devices) {
        NetworkConnection c = create(track(ControllableHandshaker.scripted()), link);
        c.handshakeCompleted(handshake(peer, devices));
        awaitState(c, CONNECTED);
        waiting().until(() -> c.getRemoteDevices().equals(devices));
        return c;
    }

    /**
     * Awaitility with the suite's hang guard, polling every 2 ms from the start (Awaitility's default first waits a
     * full 100 ms poll interval, which adds up over hundreds of waits). A fresh factory each time; no global default is
     * changed.
     */
    protected static ConditionFactory waiting() {
        return await().atMost(WAIT).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(2));
    }

    /** Waits for {@code condition}; on timeout fails with {@code what} and a dump of every thread. */
    private static void awaitOrDump(String what, Callable<Boolean> condition) {
        try {
            waiting().until(condition);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(what + " not reached within " + WAIT + "; all threads:\n"
                    + DeadlockWatchdog.dumpAll(java.lang.management.ManagementFactory.getThreadMXBean()), e);
        }
    }

    private static void awaitState(NetworkConnection c, ConnectionState s) {
        waiting().until(() -> c.getState() == s);
    }

    /** Waits for a devicesChanged with exactly {@code marker}: every earlier change of that connection has arrived. */
    private static void awaitMarker(RecordingConnectionListener l, List<DeviceInfo> marker) {
        waiting().until(() -> l.deviceLists().contains(marker));
    }

    private void report(String format, Object... args) {
        System.out.printf(Locale.ROOT, "[contract %s] %s: %s%n", name(), testName, String.format(Locale.ROOT,
                format, args));
    }

    private static long stressSeconds() {
        long s = Long.getLong(STRESS_SECONDS_PROPERTY, DEFAULT_STRESS_SECONDS);
        if (s < 1) {
            throw new IllegalArgumentException(STRESS_SECONDS_PROPERTY + " must be at least 1, not " + s);
        }
        return s;
    }

    private static String latency(ConnectionMetrics m) {
        ConnectionMetrics.LatencySummary l = m.queryLatency();
        return String.format(Locale.ROOT, "latency samples %d p50 %d ns p99 %d ns p999 %d ns max %d ns", l.count(),
                l.p50Ns(), l.p99Ns(), l.p999Ns(), l.maxNs());
    }

    private static void assertNoProblems(Collection<String> problems) {
        if (!problems.isEmpty()) {
            List<String> first = problems.stream().limit(20).toList();
            fail(problems.size() + " problem(s), the first " + first.size() + ":\n  " + String.join("\n  ", first));
        }
    }

    /** Every state change chains from DISCONNECTED (from equals the previous to) and ends in {@code last}. */
    private static void assertChained(List<Call> calls, ConnectionState last) {
        ConnectionState expectedFrom = DISCONNECTED;
        int i = 0;
        for (Call c : calls) {
            if (c.kind() == Kind.STATE) {
                assertEquals(expectedFrom, c.from(), "state change " + i + " out of order: " + c.what());
                assertNotEquals(c.from(), c.to(), "state change " + i + " to the same state: " + c.what());
                expectedFrom = c.to();
                i++;
            }
        }
        assertEquals(last, expectedFrom, "the last state change does not lead to the current state");
    }

    /** No callback ran on a thread of the test (the callers of the connection). */
    private static void assertNotOnCallersThreads(List<Call> calls, String testThread) {
        for (Call c : calls) {
            assertFalse(c.thread().startsWith(TEST_THREAD_PREFIX) || c.thread().equals(testThread),
                    c.what() + " ran on the caller's thread " + c.thread());
        }
    }

    /** Bad input: a clear NullPointerException or IllegalArgumentException. */
    private static void assertRejected(Executable call) {
        RuntimeException e = assertThrows(RuntimeException.class, call);
        assertTrue(e instanceof NullPointerException || e instanceof IllegalArgumentException,
                "expected NullPointerException or IllegalArgumentException, got " + e);
    }

    /** Runs {@code call} on a helper thread and fails if it has not returned within {@code bound}. */
    private static <T> T within(Duration bound, String what, Callable<T> call) throws Exception {
        FutureTask<T> task = new FutureTask<>(call);
        Thread t = new Thread(task, TEST_THREAD_PREFIX + "bounded-call");
        t.setDaemon(true);
        t.start();
        try {
            return task.get(bound.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            t.interrupt();
            throw new AssertionError(what + " did not return within " + bound);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception ex ? ex : new RuntimeException(e.getCause());
        }
    }

    /** The live threads of strategies: named midimesh-*, but not the tests' nor the strategy manager's. */
    private static Set<String> midimeshThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith("midimesh-") && !n.startsWith("midimesh-test-")
                        && !n.startsWith("midimesh-strategy"))
                .collect(Collectors.toSet());
    }

    /** Threads started by a test, each running a body until it returns or the group is stopped; failures recorded. */
    private final class Workers {

        @FunctionalInterface
        interface Body {
            void run(int index, BooleanSupplier stopped) throws Exception;
        }

        private final List<Thread> threads = new ArrayList<>();
        // Set once by stop(); read by the bodies in their loops. Publishes nothing else.
        private final AtomicBoolean stop = new AtomicBoolean();
        final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();

        Workers(String role, int count, Body body) {
            for (int i = 0; i < count; i++) {
                int index = i;
                Thread t = new Thread(() -> {
                    try {
                        body.run(index, stop::get);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } catch (Throwable e) {
                        problems.add(Thread.currentThread().getName() + " threw " + e);
                    }
                }, TEST_THREAD_PREFIX + role + "-" + i);
                t.setDaemon(true);
                threads.add(t);
            }
            workers.add(this);
            threads.forEach(Thread::start);
        }

        /** Asks the bodies to stop and waits for them; a thread still running after {@code bound} is a problem. */
        void stopAndJoin(Duration bound) throws InterruptedException {
            stop.set(true);
            join(bound);
        }

        /** Waits for bodies that end by themselves. */
        void join(Duration bound) throws InterruptedException {
            long deadline = System.nanoTime() + bound.toNanos();
            for (Thread t : threads) {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                if (t.isAlive()) {
                    problems.add(t.getName() + " still running after " + bound + ":\n"
                            + DeadlockWatchdog.dumpAll(java.lang.management.ManagementFactory.getThreadMXBean()));
                }
            }
        }

        void stopNow() throws InterruptedException {
            stop.set(true);
            for (Thread t : threads) {
                t.interrupt();
                t.join(5000);
            }
        }
    }

    // ---- warm-up ------------------------------------------------------------------------------------------------

    /**
     * A strategy that warms up ({@link Warmable}) does it on a private instance of its own: the live instance's
     * metrics, connections and threads are as before, and its connections still work. Skipped for a strategy without
     * a warm-up (a capability gate).
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aWarmUpLeavesTheLiveStrategyAsItWas() {
        ConnectionStrategy s = strategy();
        assumeTrue(s instanceof Warmable, name() + " does not warm up");
        RecordingPeerLink link = new RecordingPeerLink();
        NetworkConnection c = connected(link, PEER, devices(2));
        assertTrue(c.send(numberedFrame(0)));
        waiting().until(() -> link.dataCount() == 1);
        ConnectionMetrics before = s.metrics();
        long threadsBefore = strategyThreadCount();

        String done = ((Warmable) s).warmUp(Duration.ofSeconds(20));

        // Each pass of the warm-up reports "<n> frames" (seda runs two: sends on the caller, and queued).
        List<String> passes = java.util.regex.Pattern.compile("(\\d+) frames").matcher(done).results()
                .map(m -> m.group(1)).toList();
        assertFalse(passes.isEmpty(), "what the warm-up reports: " + done);
        assertTrue(passes.stream().allMatch("20000"::equals), "all rounds of every pass ran: " + done);
        ConnectionMetrics after = s.metrics();
        assertEquals(before.commandsProcessed(), after.commandsProcessed(), "commands of the live instance");
        assertEquals(before.callbacksDispatched(), after.callbacksDispatched(), "callbacks of the live instance");
        assertEquals(before.droppedMessages(), after.droppedMessages(), "drops of the live instance");
        assertEquals(before.errors(), after.errors(), "errors of the live instance");
        assertEquals(1, link.dataCount(), "nothing of the warm-up reached a live link");
        waiting().until(() -> strategyThreadCount() == threadsBefore);
        assertEquals(CONNECTED, c.getState());
        assertTrue(c.send(numberedFrame(1)));
        waiting().until(() -> link.dataCount() == 2);
        assertEquals(List.of(0, 1), link.frameNumbers());
    }

    /** How many threads of strategies run now (names repeat between instances, so a count, not a set). */
    private static long strategyThreadCount() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith("midimesh-") && !n.startsWith("midimesh-test-")
                        && !n.startsWith("midimesh-strategy"))
                .count();
    }

    // ---- basics -------------------------------------------------------------------------------------------------

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldStartDisconnectedKnowingNothingUnderItsStrategyName() {
        ConnectionStrategy s = strategy();
        NetworkConnection c = create(track(ControllableHandshaker.scripted()), new RecordingPeerLink());

        assertEquals(name(), s.name());
        assertEquals(name(), c.strategy());
        assertEquals(DISCONNECTED, c.getState());
        assertEquals(Optional.empty(), c.getRemoteId());
        assertEquals(Optional.empty(), c.getRemoteNode());
        assertEquals(List.of(), c.getRemoteDevices());
        assertEquals(Long.MAX_VALUE, c.getTimeSinceLastHeartbeat());
        assertEquals(name(), c.metrics().strategy());
        assertEquals(name(), s.metrics().strategy());
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldRejectBadInputAndChangeNothing() {
        NetworkConnection c = create(track(ControllableHandshaker.scripted()), new RecordingPeerLink());

        RecordingConnectionListener events = new RecordingConnectionListener();
        assertRejected(() -> strategy().create(null, events.asEngineEvents()));
        assertRejected(() -> strategy().create(FakePeers.context(ControllableHandshaker.scripted(),
                new RecordingPeerLink()), null));
        assertRejected(() -> strategy().adopt(null, events.asEngineEvents()));
        assertRejected(() -> control().open(null));
        assertRejected(() -> c.handshakeCompleted(null));
        assertRejected(() -> c.send(null));
        assertRejected(() -> c.addListener(null));

        assertEquals(DISCONNECTED, c.getState());
        assertEquals(Optional.empty(), c.getRemoteNode());
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldConnectThroughAHandshakeOffTheCallersThread() {
        ControllableHandshaker h = track(ControllableHandshaker.answering(handshake(PEER, 2)));
        NetworkConnection c = create(h, new RecordingPeerLink());
        RecordingConnectionListener l = new RecordingConnectionListener();
        c.addListener(l);

        c.connect();

        awaitState(c, CONNECTED);
        waiting().until(() -> l.states().size() == 2 && l.deviceLists().size() == 1);
        assertEquals(List.of("DISCONNECTED>CONNECTING", "CONNECTING>CONNECTED"), l.states());
        assertEquals(devices(2), l.deviceLists().get(0));
        assertEquals(Optional.of(PEER), c.getRemoteId());
        assertEquals(PEER, c.getRemoteNode().orElseThrow().id());
        assertEquals(devices(2), c.getRemoteDevices());
        assertTrue(c.getTimeSinceLastHeartbeat() < Long.MAX_VALUE, "the handshake counts as a heartbeat");
        assertNotEquals(Thread.currentThread().getName(), h.threads().get(0), "handshake on the caller's thread");

        c.connect(); // already connected: ignored
        c.disconnect();
        waiting().until(() -> l.states().size() == 3);
        assertEquals("CONNECTED>DISCONNECTED", l.states().get(2));
        assertEquals(1, h.calls(), "connect() while connected started a handshake");
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldFailWithAnErrorWhenTheHandshakeFailsAndConnectAgainFromFailed() {
        ControllableHandshaker h = track(ControllableHandshaker.scripted());
        NetworkConnection c = create(h, new RecordingPeerLink());
        RecordingConnectionListener l = new RecordingConnectionListener();
        c.addListener(l);

        h.fail("connection refused");
        c.connect();

        awaitState(c, FAILED);
        waiting().until(() -> l.errors().size() == 1 && l.states().size() == 2);
        assertEquals(List.of("DISCONNECTED>CONNECTING", "CONNECTING>FAILED"), l.states());
        assertEquals(Optional.empty(), c.getRemoteNode());
        waiting().until(() -> c.metrics().errors() >= 1);

        h.respond(handshake(PEER, 1));
        c.connect();

        awaitState(c, CONNECTED);
        waiting().until(() -> l.states().size() == 4);
        assertEquals(List.of("DISCONNECTED>CONNECTING", "CONNECTING>FAILED", "FAILED>CONNECTING",
                "CONNECTING>CONNECTED"), l.states());
    }

    @ParameterizedTest(name = "late handshake succeeds: {0}")
    @ValueSource(booleans = {true, false})
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldLetADisconnectDuringTheHandshakeWin(boolean lateSuccess) {
        ControllableHandshaker h = track(ControllableHandshaker.scripted());
        NetworkConnection c = create(h, new RecordingPeerLink());
        RecordingConnectionListener l = new RecordingConnectionListener();
        c.addListener(l);
        List<DeviceInfo> marker = devices(6, "marker");

        c.connect();
        waiting().until(() -> h.calls() == 1);
        c.disconnect();
        awaitState(c, DISCONNECTED);
        Runnable lateAnswer = lateSuccess ? () -> h.respond(handshake(PEER, 3)) : () -> h.fail("too late");
        lateAnswer.run();
        waiting().until(() -> h.returned() == 1);
        c.handshakeCompleted(handshake(PEER, marker));
        awaitMarker(l, marker);

        assertEquals(List.of("DISCONNECTED>CONNECTING", "CONNECTING>DISCONNECTED", "DISCONNECTED>CONNECTED"),
                l.states());
        assertEquals(List.of(marker), l.deviceLists(), "the late handshake result was applied");
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldLetAnInboundHandshakeDuringTheOutboundOneWin() {
        ControllableHandshaker h = track(ControllableHandshaker.scripted());
        NetworkConnection c = create(h, new RecordingPeerLink());
        RecordingConnectionListener l = new RecordingConnectionListener();
        c.addListener(l);
        List<DeviceInfo> marker = devices(6, "marker");

        c.connect();
        waiting().until(() -> h.calls() == 1);
        c.handshakeCompleted(handshake(PEER, 1));
        awaitState(c, CONNECTED);
        h.fail("late failure");
        waiting().until(() -> h.returned() == 1);
        c.handshakeCompleted(handshake(PEER, marker));
        awaitMarker(l, marker);

        assertEquals(CONNECTED, c.getState());
        assertEquals(List.of("DISCONNECTED>CONNECTING", "CONNECTING>CONNECTED"), l.states());
        assertEquals(List.of(devices(1), marker), l.deviceLists());
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldFailAPeerSilentBeyondTheHeartbeatTimeoutOnlyWhenChecked() {
        NetworkConnection fresh = create(track(ControllableHandshaker.scripted()), new RecordingPeerLink());
        RecordingConnectionListener l = new RecordingConnectionListener();
        fresh.addListener(l);
        fresh.handshakeCompleted(handshake(PEER, 0));
        awaitState(fresh, CONNECTED);
        fresh.notifyHeartbeat();
        fresh.checkHeartbeat(); // an hour's timeout: stays connected
        fresh.disconnect(); // a marker behind the check
        awaitState(fresh, DISCONNECTED);
        waiting().until(() -> l.states().size() == 2);
        assertEquals(List.of("DISCONNECTED>CONNECTED", "CONNECTED>DISCONNECTED"), l.states());

        Duration timeout = Duration.ofMillis(200);
        NetworkConnection silent = create(track(ControllableHandshaker.scripted()), new RecordingPeerLink(), timeout);
        RecordingConnectionListener s = new RecordingConnectionListener();
        silent.addListener(s);
        silent.handshakeCompleted(handshake(PEER, 0));
        awaitState(silent, CONNECTED);
        waiting()
                .until(() -> silent.getTimeSinceLastHeartbeat() > timeout.toMillis());
        silent.checkHeartbeat();

        awaitState(silent, FAILED);
        waiting().until(() -> !s.errors().isEmpty() && s.states().size() == 2);
        assertEquals(List.of("DISCONNECTED>CONNECTED", "CONNECTED>FAILED"), s.states());
        waiting().until(() -> silent.metrics().errors() >= 1);
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldSendOnlyWhenConnectedAndInOrder() {
        RecordingPeerLink link = new RecordingPeerLink();
        NetworkConnection c = create(track(ControllableHandshaker.scripted()), link);

        assertFalse(c.send(numberedFrame(0)), "sent while disconnected");
        waiting().until(() -> c.metrics().droppedMessages() >= 1);

        c.handshakeCompleted(handshake(PEER, 0));
        awaitState(c, CONNECTED);
        for (int i = 1; i <= 1000; i++) {
            assertTrue(c.send(numberedFrame(i)), "frame " + i + " refused while connected");
        }
        waiting().until(() -> link.dataCount() == 1000);
        List<RecordingPeerLink.Sent> sent = link.sent();
        for (int i = 0; i < 1000; i++) {
            assertEquals(i + 1, numberOf(sent.get(i).frame()), "frame out of order at " + i);
            assertEquals(PEER, sent.get(i).peer().id());
        }

        c.disconnect();
        awaitState(c, DISCONNECTED);
        assertFalse(c.send(numberedFrame(1001)), "sent after disconnect");
        assertEquals(1000, link.dataCount());
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldDisconnectOnGoodbyeWithoutSendingAnything() {
        RecordingPeerLink link = new RecordingPeerLink();
        NetworkConnection c = connected(link, PEER, devices(1));

        c.goodbyeReceived();

        awaitState(c, DISCONNECTED);
        assertEquals(List.of(), link.goodbyes());
        assertEquals(0, link.dataCount());
        assertEquals(Optional.of(PEER), c.getRemoteId(), "the peer stays known after a goodbye");
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldCloseIdempotentlyIgnoreLaterCommandsAndStillAnswerQueries() {
        ControllableHandshaker h = track(ControllableHandshaker.answering(handshake(PEER, 2)));
        RecordingPeerLink link = new RecordingPeerLink();
        NetworkConnection c = create(h, link);
        RecordingConnectionListener l = new RecordingConnectionListener();
        c.addListener(l);
        c.handshakeCompleted(handshake(PEER, 1));
        awaitState(c, CONNECTED);

        c.close();
        c.close();
        awaitState(c, DISCONNECTED);
        c.connect();
        c.handshakeCompleted(handshake(PEER, 3));
        c.checkHeartbeat();
        c.notifyHeartbeat();
        c.goodbyeReceived();
        c.disconnect();

        assertFalse(c.send(numberedFrame(1)));
        await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> c.getState() == DISCONNECTED);
        assertEquals(0, h.calls(), "a closed connection started a handshake");
        assertEquals(0, link.dataCount());
        assertEquals(List.of("DISCONNECTED>CONNECTED", "CONNECTED>DISCONNECTED"), l.states());
        assertNotNull(c.metrics());
        assertEquals(Optional.of(PEER), c.getRemoteId());
    }

    // ---- workplan A.1 to A.5 -------------------------------------------------------------------------------------

    @Test
    @DisplayName("CallbackNotUnderLock: listeners, peer sends and handshakes run with no lock held, not on the caller")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldNeverCallOutUnderALockNorOnTheCallersThread() {
        ControllableHandshaker h = track(ControllableHandshaker.scripted().checkingLocks());
        RecordingPeerLink link = RecordingPeerLink.checkingLocks();
        NetworkConnection c = create(h, link, Duration.ofMillis(1));
        RecordingConnectionListener l = RecordingConnectionListener.checkingLocks();
        c.addListener(l);

        h.respond(handshake(PEER, 2));
        c.connect();
        awaitState(c, CONNECTED);
        assertTrue(c.send(numberedFrame(1)));
        waiting().until(() -> link.dataCount() == 1);
        c.disconnect();
        h.fail("refused");
        c.connect();
        awaitState(c, FAILED);
        c.handshakeCompleted(handshake(PEER, 3));
        awaitState(c, CONNECTED);
        waiting().until(() -> c.getTimeSinceLastHeartbeat() >= 2);
        c.checkHeartbeat();
        awaitState(c, FAILED);
        c.goodbyeReceived();
        awaitState(c, DISCONNECTED);

        List<String> expected = List.of("DISCONNECTED>CONNECTING", "CONNECTING>CONNECTED", "CONNECTED>DISCONNECTED",
                "DISCONNECTED>CONNECTING", "CONNECTING>FAILED", "FAILED>CONNECTED", "CONNECTED>FAILED",
                "FAILED>DISCONNECTED");
        waiting().until(() -> l.states().size() == expected.size() && l.errors().size() == 2
                && l.deviceLists().size() == 2);
        assertEquals(expected, l.states());
        for (Call call : l.calls()) {
            assertEquals(List.of(), call.heldLocks(), call.what() + " ran on " + call.thread() + " holding locks");
        }
        assertNotOnCallersThreads(l.calls(), Thread.currentThread().getName());
        assertEquals(List.of(), link.lockViolations());
        assertEquals(List.of(), h.lockViolations());
        waiting().until(() -> c.metrics().callbacksDispatched() >= l.size());
    }

    @Test
    @DisplayName("CallbackReentrancySafe: a listener may query and command its connection")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldLetListenersCallBackIntoTheirConnection() {
        ControllableHandshaker h = track(ControllableHandshaker.scripted());
        RecordingPeerLink link = new RecordingPeerLink();
        NetworkConnection c = create(h, link);
        ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        RecordingConnectionListener extra = new RecordingConnectionListener();
        ConnectionStrategy s = strategy();
        c.addListener(new ConnectionListener() {
            @Override
            public void stateChanged(NetworkConnection conn, ConnectionState from, ConnectionState to) {
                try {
                    ConnectionState now = conn.getState();
                    Optional<NodeInfo> node = conn.getRemoteNode();
                    Optional<NodeId> id = conn.getRemoteId();
                    List<DeviceInfo> devs = conn.getRemoteDevices();
                    long hb = conn.getTimeSinceLastHeartbeat();
                    conn.metrics();
                    s.metrics();
                    if (node.isPresent() != id.isPresent() || hb < 0) {
                        problems.add("inconsistent answers in the callback for " + to);
                    }
                    seen.add(to + " state=" + now + " node=" + id.isPresent() + " devices=" + devs.size());
                    if (to == CONNECTING) {
                        conn.addListener(extra);
                    }
                    if (to == CONNECTED) {
                        conn.checkHeartbeat();
                        conn.send(numberedFrame(7));
                        conn.disconnect();
                    }
                } catch (Throwable e) {
                    problems.add("callback for " + to + " threw " + e);
                }
            }

            @Override
            public void devicesChanged(NetworkConnection conn, List<DeviceInfo> devices) {
                seen.add("devices node=" + conn.getRemoteId().map(NodeId::toString).orElse("none") + " n="
                        + devices.size());
            }
        });

        c.connect();
        waiting().until(() -> seen.size() == 1);
        h.respond(handshake(PEER, 2));

        awaitState(c, DISCONNECTED);
        waiting().until(() -> seen.size() == 4);
        List<String> got = new ArrayList<>(seen);
        assertEquals("CONNECTING state=CONNECTING node=false devices=0", got.get(0));
        assertEquals("CONNECTED state=CONNECTED node=true devices=2", got.get(1));
        assertTrue(got.contains("devices node=" + PEER + " n=2"), got.toString());
        assertEquals("DISCONNECTED state=DISCONNECTED node=true devices=2",
                got.stream().filter(g -> g.startsWith("DISCONNECTED")).findFirst().orElse("none"));
        assertNoProblems(problems);
        waiting().until(() -> link.dataCount() == 1);
        waiting().until(() -> extra.states().contains("CONNECTED>DISCONNECTED"));
    }

    @Test
    @DisplayName("ConcurrentQueriesDuringHandshake: 50 readers while one thread connects and disconnects")
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void shouldAnswerFiftyReadersConsistentlyDuringHandshakes() throws InterruptedException {
        AtomicInteger round = new AtomicInteger();
        ControllableHandshaker h = track(ControllableHandshaker
                .answering(() -> handshake(PEER, devices(1 + round.incrementAndGet() % 8, "hs"))));
        NetworkConnection c = create(h, new RecordingPeerLink());
        LongAdder reads = new LongAdder();
        Workers readers = new Workers("reader", 50, (i, stopped) -> {
            long n = 0;
            while (!stopped.getAsBoolean()) {
                ConnectionState s = c.getState();
                Optional<NodeInfo> node = c.getRemoteNode();
                List<DeviceInfo> devs = c.getRemoteDevices();
                long hb = c.getTimeSinceLastHeartbeat();
                if (s == null) {
                    throw new AssertionError("null state");
                }
                if (node.isPresent() && !node.get().id().equals(PEER)) {
                    throw new AssertionError("wrong node " + node.get());
                }
                String whole = checkWhole(devs);
                if (whole != null) {
                    throw new AssertionError(whole);
                }
                if (hb < 0) {
                    throw new AssertionError("negative heartbeat age " + hb);
                }
                n += 4;
            }
            reads.add(n);
        });
        long seconds = Math.max(2, stressSeconds() / 6);
        long start = System.nanoTime();
        long deadline = start + TimeUnit.SECONDS.toNanos(seconds);
        int cycles = 0;
        while (cycles < 10 || System.nanoTime() - deadline < 0) {
            c.connect();
            if (cycles % 2 == 0) {
                awaitState(c, CONNECTED);
            }
            c.disconnect();
            cycles++;
        }
        readers.stopAndJoin(WAIT);
        double secs = (System.nanoTime() - start) / 1e9;

        assertNoProblems(readers.problems);
        awaitState(c, DISCONNECTED);
        ConnectionMetrics m = c.metrics();
        assertTrue(m.totalQueries() >= reads.sum(), "total_queries " + m.totalQueries() + " < " + reads.sum());
        assertTrue(m.contentionPercent() >= 0 && m.contentionPercent() <= 100, m.toString());
        report("%d handshake cycles (%d handshakes) in %.1f s; 50 readers made %d queries (%.0f/s), "
                + "contention %.2f%%, %s", cycles, h.calls(), secs, reads.sum(), reads.sum() / secs,
                m.contentionPercent(), latency(m));
    }

    @Test
    @DisplayName("DeviceListReadDuringWrite: readers never see a half-written device list")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldNeverShowAHalfWrittenDeviceList() throws InterruptedException {
        NetworkConnection c = create(track(ControllableHandshaker.scripted()), new RecordingPeerLink());
        LongAdder reads = new LongAdder();
        Workers readers = new Workers("device-reader", 8, (i, stopped) -> {
            long n = 0;
            while (!stopped.getAsBoolean()) {
                List<DeviceInfo> devs = c.getRemoteDevices();
                String whole = checkWhole(devs);
                if (whole != null) {
                    throw new AssertionError(whole);
                }
                n++;
            }
            reads.add(n);
        });
        List<DeviceInfo> last = List.of();
        for (int i = 0; i < 5000; i++) {
            last = devices(1 + i % 20, "w" + i % 3);
            c.handshakeCompleted(handshake(PEER, last));
            if (i % 100 == 99) { // bounded backlog for strategies with a bounded command queue
                List<DeviceInfo> expected = last;
                waiting().until(() -> c.getRemoteDevices().equals(expected));
            }
        }
        List<DeviceInfo> expected = last;
        waiting().until(() -> c.getRemoteDevices().equals(expected));
        readers.stopAndJoin(WAIT);

        assertNoProblems(readers.problems);
        assertTrue(reads.sum() > 0);
        List<DeviceInfo> got = c.getRemoteDevices();
        assertThrows(UnsupportedOperationException.class, () -> got.add(got.get(0)), "device list is mutable");
        report("8 readers read the device list %d times during 5000 handshakes", reads.sum());
    }

    @Test
    @DisplayName("PoolIterationDuringDisconnect: no connection is torn down while the pool iterates")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldNeverTearDownAConnectionWhileThePoolIterates() throws InterruptedException {
        InMemoryConnectionPool pool = new InMemoryConnectionPool();
        RecordingPeerLink link = new RecordingPeerLink();
        int nodes = 10;
        List<NodeId> peers = new ArrayList<>();
        Map<NodeId, Integer> deviceCount = new ConcurrentHashMap<>();
        for (int i = 0; i < nodes; i++) {
            NodeId id = NodeId.random();
            peers.add(id);
            deviceCount.put(id, 1 + i % 4);
            pool.add(id, connected(link, id, devices(1 + i % 4, "pool")));
        }
        ConcurrentLinkedQueue<NetworkConnection> removed = new ConcurrentLinkedQueue<>();
        int replacements = 200;
        Workers remover = new Workers("remover", 1, (i, stopped) -> {
            ThreadLocalRandom rnd = ThreadLocalRandom.current();
            for (int r = 0; r < replacements && !stopped.getAsBoolean(); r++) {
                NodeId peer = peers.get(rnd.nextInt(nodes));
                NetworkConnection old = pool.get(peer).orElseThrow();
                if (!pool.remove(peer)) {
                    throw new AssertionError("remove failed for " + peer);
                }
                removed.add(old);
                pool.add(peer, connected(link, peer, devices(deviceCount.get(peer), "pool")));
            }
        });
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        long iterations = 0;
        long queries = 0;
        while (remover.threads.get(0).isAlive()) {
            long[] q = pool.withAllConnections(cs -> {
                long n = 0;
                for (NetworkConnection c : cs) {
                    ConnectionState s = c.getState();
                    List<DeviceInfo> devs = c.getRemoteDevices();
                    Optional<NodeId> id = c.getRemoteId();
                    n += 3;
                    if (s != CONNECTED) {
                        problems.add("a pooled connection was " + s + " during iteration");
                    }
                    if (id.isEmpty() || devs.size() != deviceCount.get(id.get())) {
                        problems.add("wrong devices " + devs.size() + " for " + id);
                    }
                }
                if (cs.size() > nodes) {
                    problems.add(cs.size() + " connections for " + nodes + " peers");
                }
                return new long[] {n};
            });
            queries += q[0];
            iterations++;
        }
        remover.join(WAIT);

        assertNoProblems(remover.problems);
        assertNoProblems(problems);
        assertEquals(nodes, pool.size());
        for (NetworkConnection c : removed) {
            awaitState(c, DISCONNECTED);
        }
        report("%d pool iterations (%d queries) during %d remove-and-replace cycles", iterations, queries,
                removed.size());
    }

    @Test
    @DisplayName("LoadTest_SingleNode_1000QPS: one connection answers at least 1000 queries per second")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldAnswerAtLeastAThousandQueriesPerSecondOnOneConnection() {
        NetworkConnection c = connected(new RecordingPeerLink(), PEER, devices(4));
        int queries = 10_000;
        long sink = 0;
        long start = System.nanoTime();
        for (int i = 0; i < queries; i++) {
            sink += c.getState().ordinal();
            sink += c.getRemoteDevices().size();
        }
        double secs = Math.max(1e-9, (System.nanoTime() - start) / 1e9);
        double qps = queries / secs;

        assertEquals(queries * (long) (CONNECTED.ordinal() + 4), sink);
        report("%d queries (getState + getRemoteDevices each) in %.3f ms: %.0f QPS (requirement > 1000); %s",
                queries, secs * 1000, qps, latency(c.metrics()));
        assertTrue(qps > 1000, "workplan requirement: more than 1000 QPS, achieved " + qps);
    }

    @Test
    @DisplayName("LoadTest_10Nodes_100QPS_Each: mesh statistics over 10 connected nodes under traffic")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldKeepMeshStatisticsRightOverTenNodesUnderTraffic() throws InterruptedException {
        InMemoryConnectionPool pool = new InMemoryConnectionPool();
        RecordingPeerLink link = new RecordingPeerLink();
        int nodes = 10;
        int expectedDevices = 0;
        for (int i = 0; i < nodes; i++) {
            NodeId peer = NodeId.random();
            pool.add(peer, connected(link, peer, devices(i + 1, "mesh")));
            expectedDevices += i + 1;
        }
        AtomicLong traffic = new AtomicLong();
        Workers mesh = new Workers("mesh-traffic", 1, (i, stopped) -> {
            int n = 0;
            while (!stopped.getAsBoolean()) {
                for (NetworkConnection c : pool.all()) {
                    c.notifyHeartbeat();
                    c.checkHeartbeat();
                    c.send(numberedFrame(n++ & FakePeers.MAX_FRAME_NUMBER));
                    traffic.addAndGet(3);
                }
                LockSupport.parkNanos(200_000); // a paced background load, not a wait for a condition
            }
        });
        int rounds = 1000;
        List<String> problems = new ArrayList<>();
        long start = System.nanoTime();
        for (int r = 0; r < rounds; r++) {
            int[] stats = pool.withAllConnections(cs -> {
                int connected = 0;
                int devs = 0;
                for (NetworkConnection c : cs) {
                    if (c.getState() == CONNECTED) {
                        connected++;
                        devs += c.getRemoteDevices().size();
                    }
                }
                return new int[] {cs.size(), connected, devs};
            });
            if (stats[0] != nodes || stats[1] != nodes || stats[2] != expectedDevices) {
                problems.add("round " + r + ": total " + stats[0] + ", connected " + stats[1] + ", devices "
                        + stats[2]);
            }
        }
        double secs = (System.nanoTime() - start) / 1e9;
        mesh.stopAndJoin(WAIT);

        assertNoProblems(mesh.problems);
        assertNoProblems(problems);
        ConnectionMetrics total = strategy().metrics();
        report("%d statistics rounds over %d nodes in %.3f s: %.0f rounds/s, %.0f queries/s per node "
                + "(workplan target 100); %d background heartbeat/check/send calls; strategy contention %.2f%%",
                rounds, nodes, secs, rounds / secs, rounds * 2 / secs, traffic.get(), total.contentionPercent());
    }

    @Test
    @DisplayName("ChaosTest_RandomOperations: 10,000 random operations from 4 threads")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldSurviveTenThousandRandomOperations() throws InterruptedException {
        ControllableHandshaker h = track(ControllableHandshaker.answering(() -> {
            ThreadLocalRandom rnd = ThreadLocalRandom.current();
            LockSupport.parkNanos(rnd.nextInt(300_000)); // network latency
            if (rnd.nextInt(4) == 0) {
                throw new IOException("chaos: refused");
            }
            return handshake(PEER, devices(1 + rnd.nextInt(5), "chaos"));
        }));
        RecordingPeerLink link = new RecordingPeerLink();
        NetworkConnection c = create(h, link, Duration.ofMillis(2));
        RecordingConnectionListener l = new RecordingConnectionListener();
        c.addListener(l);
        ConnectionStrategy s = strategy();
        int threads = 4;
        int opsEach = 2500;
        long start = System.nanoTime();
        Workers chaos = new Workers("chaos", threads, (i, stopped) -> {
            ThreadLocalRandom rnd = ThreadLocalRandom.current();
            for (int op = 0; op < opsEach && !stopped.getAsBoolean(); op++) {
                switch (rnd.nextInt(14)) {
                    case 0 -> c.connect();
                    case 1 -> c.disconnect();
                    case 2 -> assertNotNull(c.getState());
                    case 3 -> c.getRemoteNode().ifPresent(n -> assertEquals(PEER, n.id()));
                    case 4 -> assertEquals(null, checkWhole(c.getRemoteDevices()));
                    case 5 -> c.checkHeartbeat();
                    case 6 -> c.notifyHeartbeat();
                    case 7 -> c.handshakeCompleted(handshake(PEER, devices(1 + rnd.nextInt(5), "chaos")));
                    case 8 -> c.goodbyeReceived();
                    case 9 -> c.send(numberedFrame(op));
                    case 10 -> {
                        assertNotNull(c.metrics());
                        assertNotNull(s.metrics());
                    }
                    case 11 -> {
                        ConnectionListener throwaway = (conn, from, to) -> { };
                        c.addListener(throwaway);
                        c.removeListener(throwaway);
                    }
                    case 12 -> assertTrue(c.getTimeSinceLastHeartbeat() >= 0);
                    default -> c.getRemoteId().ifPresent(id -> assertEquals(PEER, id));
                }
                if (rnd.nextInt(16) == 0) {
                    Thread.yield(); // jitter
                }
            }
        });
        chaos.join(Duration.ofSeconds(90));
        double secs = (System.nanoTime() - start) / 1e9;
        assertNoProblems(chaos.problems);

        awaitOrDump("no handshake in flight (" + h.calls() + " calls, " + h.returned() + " returned)",
                () -> h.inFlight() == 0);
        List<DeviceInfo> marker = devices(7, "final");
        c.handshakeCompleted(handshake(PEER, marker));
        awaitMarker(l, marker);

        assertEquals(CONNECTED, c.getState());
        List<Call> calls = l.calls();
        assertChained(calls, CONNECTED);
        assertNotOnCallersThreads(calls, Thread.currentThread().getName());
        c.disconnect();
        awaitState(c, DISCONNECTED);
        ConnectionMetrics m = c.metrics();
        report("%d random operations from %d threads in %.2f s (%.0f ops/s): %d handshakes, %d callbacks, "
                + "%d state changes, %d frames sent; contention %.2f%%, errors %d, dropped %d", threads * opsEach,
                threads, secs, threads * opsEach / secs, h.calls(), calls.size(), l.states().size(),
                link.dataCount(), m.contentionPercent(), m.errors(), m.droppedMessages());
    }

    @Test
    @DisplayName("StressTest_100Threads: 100 threads query one connection (60 s and > 1M queries/minute in the "
            + "stress profile)")
    @Timeout(value = 15, unit = TimeUnit.MINUTES)
    void shouldServeAHundredQueryingThreads() throws InterruptedException {
        long seconds = stressSeconds();
        NetworkConnection c = connected(new RecordingPeerLink(), PEER, devices(4, "stress"));
        LongAdder iterations = new LongAdder();
        long start = System.nanoTime();
        long deadline = start + TimeUnit.SECONDS.toNanos(seconds);
        Workers readers = new Workers("stress", 100, (i, stopped) -> {
            long n = 0;
            while (true) {
                c.getState();
                Optional<NodeInfo> node = c.getRemoteNode();
                List<DeviceInfo> devs = c.getRemoteDevices();
                n++;
                if ((n & 1023) == 0) {
                    if (node.isEmpty() || !node.get().id().equals(PEER)) {
                        throw new AssertionError("wrong node " + node);
                    }
                    String whole = checkWhole(devs);
                    if (whole != null) {
                        throw new AssertionError(whole);
                    }
                    if (System.nanoTime() - deadline > 0 || stopped.getAsBoolean()) {
                        break;
                    }
                }
            }
            iterations.add(n);
        });
        Workers writer = new Workers("stress-writer", 1, (i, stopped) -> {
            int n = 0;
            while (!stopped.getAsBoolean()) {
                c.notifyHeartbeat();
                c.handshakeCompleted(handshake(PEER, devices(1 + n++ % 6, "stress")));
                LockSupport.parkNanos(1_000_000); // one write a millisecond: a paced load, not a wait
            }
        });
        readers.join(Duration.ofSeconds(seconds + 60));
        double secs = (System.nanoTime() - start) / 1e9;
        writer.stopAndJoin(WAIT);

        assertNoProblems(readers.problems);
        assertNoProblems(writer.problems);
        long loops = iterations.sum();
        double perMinute = loops * 60.0 / secs;
        ConnectionMetrics m = c.metrics();
        assertTrue(m.totalQueries() >= 3 * loops, "total_queries " + m.totalQueries() + " < " + 3 * loops);
        report("100 threads for %.1f s: %d query rounds (getState + getRemoteNode + getRemoteDevices) = %.0f per "
                + "minute (%.0f calls/s); contention %.2f%%, %s", secs, loops, perMinute, 3 * loops / secs,
                m.contentionPercent(), latency(m));
        boolean fullRun = seconds >= FULL_STRESS_SECONDS;
        assertTrue(!fullRun || perMinute > 1_000_000,
                "workplan requirement in the full stress run: more than 1M queries a minute, achieved " + perMinute);
    }

    @Test
    @DisplayName("Callback ordering: callbacks of each connection arrive in the order of its changes")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldDeliverEachConnectionsCallbacksInOrder() throws InterruptedException {
        ControllableHandshaker h = track(ControllableHandshaker.answering(() -> {
            if (ThreadLocalRandom.current().nextInt(3) == 0) {
                throw new IOException("refused");
            }
            return handshake(PEER, devices(1 + ThreadLocalRandom.current().nextInt(3), "order"));
        }));
        RecordingConnectionListener l = new RecordingConnectionListener();
        List<NetworkConnection> cs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            NetworkConnection c = create(h, new RecordingPeerLink());
            c.addListener(l);
            cs.add(c);
        }
        Workers commanders = new Workers("commander", 4, (i, stopped) -> {
            ThreadLocalRandom rnd = ThreadLocalRandom.current();
            for (int op = 0; op < 1000 && !stopped.getAsBoolean(); op++) {
                NetworkConnection c = cs.get(rnd.nextInt(cs.size()));
                switch (rnd.nextInt(5)) {
                    case 0 -> c.connect();
                    case 1 -> c.disconnect();
                    case 2 -> c.handshakeCompleted(handshake(PEER, devices(1 + rnd.nextInt(3), "order")));
                    case 3 -> c.goodbyeReceived();
                    default -> c.checkHeartbeat();
                }
            }
        });
        commanders.join(Duration.ofSeconds(90));
        assertNoProblems(commanders.problems);
        awaitOrDump("no handshake in flight", () -> h.inFlight() == 0);
        List<DeviceInfo> marker = devices(9, "marker");
        for (NetworkConnection c : cs) {
            c.handshakeCompleted(handshake(PEER, marker));
        }
        waiting().until(() -> cs.stream().allMatch(c -> l.callsOf(c).stream()
                .anyMatch(call -> marker.equals(call.devices()))));

        int changes = 0;
        for (NetworkConnection c : cs) {
            List<Call> calls = l.callsOf(c);
            assertChained(calls, CONNECTED);
            assertEquals(CONNECTED, c.getState());
            changes += (int) calls.stream().filter(call -> call.kind() == Kind.STATE).count();
        }
        assertNotOnCallersThreads(l.calls(), Thread.currentThread().getName());
        assertTrue(changes > 30, "too few state changes to mean something: " + changes);
        report("4 threads issued 4000 commands to 3 connections: %d state changes, %d callbacks, all in order",
                changes, l.size());
    }

    @Test
    @DisplayName("Shutdown while busy: stopping the strategy under load ends every connection and thread")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldShutDownWhileBusy() throws Exception {
        Set<String> before = midimeshThreads(); // before the strategy exists (the manager's threads are left out)
        ConnectionStrategy s = strategy();
        RecordingPeerLink link = new RecordingPeerLink();
        List<NetworkConnection> cs = new ArrayList<>();
        cs.add(connected(link, NodeId.random(), devices(2, "busy")));
        cs.add(connected(link, NodeId.random(), devices(3, "busy")));
        ControllableHandshaker slow = track(ControllableHandshaker.gated(() -> handshake(PEER, 1),
                Duration.ofSeconds(3)));
        for (int i = 0; i < 2; i++) {
            NetworkConnection c = create(slow, link);
            c.connect();
            cs.add(c);
        }
        waiting().until(() -> slow.calls() >= 1);
        NetworkConnection stuck = connected(link, NodeId.random(), devices(1, "busy"));
        cs.add(stuck);
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        stuck.addListener((conn, from, to) -> {
            entered.countDown();
            try {
                release.await(10, TimeUnit.SECONDS); // a slow listener, bounded
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Workers readers = new Workers("busy-reader", 8, (i, stopped) -> {
            while (!stopped.getAsBoolean()) {
                for (NetworkConnection c : cs) {
                    assertNotNull(c.getState());
                    assertEquals(null, checkWhole(c.getRemoteDevices()));
                    c.getRemoteNode();
                    c.getTimeSinceLastHeartbeat();
                    c.metrics();
                }
            }
        });
        Workers senders = new Workers("busy-sender", 2, (i, stopped) -> {
            int n = 0;
            while (!stopped.getAsBoolean()) {
                cs.get(i).send(numberedFrame(n++ & FakePeers.MAX_FRAME_NUMBER));
                if ((n & 63) == 0) {
                    Thread.yield();
                }
            }
        });
        Workers commanders = new Workers("busy-commander", 2, (i, stopped) -> {
            ThreadLocalRandom rnd = ThreadLocalRandom.current();
            while (!stopped.getAsBoolean()) {
                NetworkConnection c = cs.get(2 + rnd.nextInt(2));
                switch (rnd.nextInt(4)) {
                    case 0 -> c.connect();
                    case 1 -> c.checkHeartbeat();
                    case 2 -> c.notifyHeartbeat();
                    default -> s.metrics();
                }
                LockSupport.parkNanos(100_000); // paced
            }
        });
        stuck.disconnect();
        assertTrue(entered.await(WAIT.toSeconds(), TimeUnit.SECONDS), "the slow listener was never called");

        long t0 = System.nanoTime();
        shutdown(s);
        strategyStopped = true;
        double shutdownMs = (System.nanoTime() - t0) / 1e6;
        release.countDown();

        for (NetworkConnection c : cs) { // commands after the stop are ignored, never thrown
            c.connect();
            c.handshakeCompleted(handshake(PEER, 1));
            c.checkHeartbeat();
        }
        readers.stopAndJoin(WAIT);
        senders.stopAndJoin(WAIT);
        commanders.stopAndJoin(WAIT);
        assertNoProblems(readers.problems);
        assertNoProblems(senders.problems);
        assertNoProblems(commanders.problems);
        for (NetworkConnection c : cs) {
            awaitState(c, DISCONNECTED);
            assertFalse(c.send(numberedFrame(1)), "a connection of a stopped strategy still sends");
        }
        waiting().until(() -> {
            Set<String> left = midimeshThreads();
            left.removeAll(before);
            return left.isEmpty();
        });
        report("shutdown under load took %.1f ms (a listener was stuck, 2 handshakes in flight)", shutdownMs);
    }

    // ---- metrics (workplan Appendix C) ----------------------------------------------------------------------------

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldCountQueriesCallbacksErrorsAndDroppedFrames() {
        ControllableHandshaker h = track(ControllableHandshaker.scripted());
        NetworkConnection c = create(h, new RecordingPeerLink());
        RecordingConnectionListener l = new RecordingConnectionListener();
        c.addListener(l);

        for (int i = 0; i < 100; i++) {
            c.getState();
            c.getRemoteNode();
            c.getRemoteDevices();
            c.getTimeSinceLastHeartbeat();
        }
        for (int i = 0; i < 3; i++) {
            assertFalse(c.send(numberedFrame(i)));
        }
        h.fail("refused");
        c.connect();
        awaitState(c, FAILED);
        waiting().until(() -> l.errors().size() == 1);

        ConnectionMetrics m = c.metrics();
        assertEquals(name(), m.strategy());
        assertTrue(m.totalQueries() >= 400, m.toString());
        assertTrue(m.mutexContentions() >= 0 && m.mutexContentions() <= m.totalQueries(), m.toString());
        assertTrue(m.contentionPercent() >= 0 && m.contentionPercent() <= 100, m.toString());
        assertTrue(m.queueDepth() >= 0, m.toString());
        waiting().until(() -> c.metrics().droppedMessages() >= 3 && c.metrics().errors() >= 1
                && c.metrics().callbacksDispatched() >= l.size());
        ConnectionMetrics total = strategy().metrics();
        assertEquals(name(), total.strategy());
        assertTrue(total.totalQueries() >= 400 && total.droppedMessages() >= 3 && total.errors() >= 1
                && total.callbacksDispatched() >= l.size(), total.toString());
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldSampleQueryLatencyIntoAHistogram() {
        NetworkConnection c = connected(new RecordingPeerLink(), PEER, devices(2));
        for (int i = 0; i < 20_000; i++) {
            c.getState();
            c.getRemoteDevices();
        }

        waiting().until(() -> c.metrics().queryLatency().count() > 0);
        ConnectionMetrics m = c.metrics();
        ConnectionMetrics.LatencySummary l = m.queryLatency();
        assertTrue(l.count() <= m.totalQueries(), m.toString());
        assertTrue(0 <= l.p50Ns() && l.p50Ns() <= l.p99Ns() && l.p99Ns() <= l.p999Ns() && l.p999Ns() <= l.maxNs(),
                l.toString());
        assertTrue(strategy().metrics().queryLatency().count() >= l.count(), "strategy totals miss samples");
        report("%d queries: %s", m.totalQueries(), latency(m));
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldKeepClosedConnectionsInTheStrategyTotals() {
        ConnectionStrategy s = strategy();
        long before = s.metrics().totalQueries();
        NetworkConnection c = create(track(ControllableHandshaker.scripted()), new RecordingPeerLink());
        for (int i = 0; i < 500; i++) {
            c.getState();
        }
        long open = s.metrics().totalQueries();
        c.close();
        awaitState(c, DISCONNECTED);
        long closed = s.metrics().totalQueries();
        NetworkConnection d = create(track(ControllableHandshaker.scripted()), new RecordingPeerLink());
        d.getState();
        long later = s.metrics().totalQueries();

        assertTrue(open >= before + 500, "open " + open + " before " + before);
        assertTrue(closed >= open, "totals went down when a connection closed: " + open + " -> " + closed);
        assertTrue(later >= closed, "totals went down: " + closed + " -> " + later);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldAnswerQueriesCommandsAndMetricsWhileAListenerIsStuck() throws Exception {
        RecordingPeerLink link = new RecordingPeerLink();
        NetworkConnection c = connected(link, PEER, devices(2));
        NetworkConnection d = connected(link, NodeId.random(), devices(1));
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        c.addListener((conn, from, to) -> {
            entered.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            c.disconnect();
            assertTrue(entered.await(WAIT.toSeconds(), TimeUnit.SECONDS));
            Duration bound = WAIT;
            within(bound, "queries", () -> List.of(c.getState(), c.getRemoteDevices(), c.getRemoteNode(),
                    c.getTimeSinceLastHeartbeat(), d.getState(), d.getRemoteDevices()));
            within(bound, "metrics", () -> List.of(c.metrics(), d.metrics(), strategy().metrics()));
            within(bound, "commands", () -> {
                d.notifyHeartbeat();
                d.checkHeartbeat();
                c.handshakeCompleted(handshake(PEER, 2));
                return d.send(numberedFrame(1));
            });
        } finally {
            release.countDown();
        }
        awaitState(c, CONNECTED);
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldCountCommandsProcessedByItsWorker() {
        assumeTrue(hasCommandQueue(), "no command queue");
        NetworkConnection c = create(track(ControllableHandshaker.scripted()), new RecordingPeerLink());
        for (int i = 0; i < 10; i++) {
            c.handshakeCompleted(handshake(PEER, 1 + i % 2));
            c.disconnect();
        }
        waiting().until(() -> c.metrics().commandsProcessed() >= 20);
        assertTrue(c.metrics().queueDepth() >= 0);
        assertTrue(strategy().metrics().commandsProcessed() >= 20);
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldReportNoQueueWithoutACommandQueue() {
        assumeFalse(hasCommandQueue(), "has a command queue");
        NetworkConnection c = create(track(ControllableHandshaker.scripted()), new RecordingPeerLink());
        c.handshakeCompleted(handshake(PEER, 1));
        c.disconnect();
        awaitState(c, DISCONNECTED);

        assertEquals(0, c.metrics().commandsProcessed());
        assertEquals(0, c.metrics().queueDepth());
        assertEquals(0, strategy().metrics().commandsProcessed());
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldNeverReportContentionWhenLockFree() throws InterruptedException {
        assumeTrue(isLockFree(), "queries take a lock");
        NetworkConnection c = connected(new RecordingPeerLink(), PEER, devices(2));
        Workers readers = new Workers("lockfree-reader", 8, (i, stopped) -> {
            for (int n = 0; n < 100_000; n++) {
                c.getState();
                c.getRemoteNode();
            }
        });
        for (int i = 0; i < 100; i++) {
            c.handshakeCompleted(handshake(PEER, 1 + i % 3));
        }
        readers.join(WAIT);
        assertNoProblems(readers.problems);
        assertEquals(0, c.metrics().mutexContentions());
        assertEquals(0, strategy().metrics().mutexContentions());
    }

    // ---- hot swap through the manager: live connections move between strategies -----------------------------------

    /** The strategy under test as the manager sees it (instrumented), made with the host. */
    private InstrumentedStrategy primary;
    /** {@link #otherStrategy()} as the manager sees it, made on first use; added to the host by the swaps. */
    private InstrumentedStrategy secondary;
    private boolean secondaryAdded;

    /** The instrumented strategy under test; the host is made with it (instead of the bare one) on first use. */
    private InstrumentedStrategy primary() {
        if (primary == null) {
            assertTrue(host == null, "primary() must come before the first use of the host");
            primary = new InstrumentedStrategy(strategy());
            host = newHost(name());
            assertNotNull(host, "newHost() returned null");
            host.add(primary, 0);
        }
        return primary;
    }

    /** The instrumented other strategy; skips the test when there is none. */
    private InstrumentedStrategy secondary() {
        if (secondary == null) {
            secondary = new InstrumentedStrategy(other());
        }
        return secondary;
    }

    private boolean sameName() {
        return secondary().name().equals(name());
    }

    /**
     * Moves every connection to the other strategy: by making it the default, or, when both have one name, by adding
     * it with a higher ranking (blue/green). Returns once they have moved.
     */
    private void swapToOther() {
        primary();
        InstrumentedStrategy b = secondary();
        if (sameName()) {
            host.add(b, 10);
            secondaryAdded = true;
            return;
        }
        if (!secondaryAdded) {
            host.add(b, 0);
            secondaryAdded = true;
        }
        SwapResult r = control().change(StrategyChange.toDefault(b.name()));
        assertEquals(List.of(), r.failures(), "connections that could not move");
    }

    /** Moves every connection back to the strategy under test. */
    private void swapBack() {
        if (sameName()) {
            host.remove(secondary());
            secondaryAdded = false;
            return;
        }
        SwapResult r = control().change(StrategyChange.toDefault(name()));
        assertEquals(List.of(), r.failures(), "connections that could not move");
    }

    /** A connection made CONNECTED (1 device) by an inbound handshake, whose two callbacks {@code l} has heard. */
    private NetworkConnection connectedAndHeard(RecordingPeerLink link, RecordingConnectionListener l) {
        NetworkConnection c = create(track(ControllableHandshaker.scripted()), link);
        c.addListener(l);
        c.handshakeCompleted(handshake(PEER, 1));
        awaitState(c, CONNECTED);
        waiting().until(() -> l.size() == 2);
        return c;
    }

    /**
     * What callers do to a connection while it moves: send frame {@code n}, disconnect, send {@code n + 1} (which
     * finds it disconnected), reconnect with 2 devices, send {@code n + 2}, add a listener (returned).
     */
    private static RecordingConnectionListener commandsDuringHandover(NetworkConnection c, int n) {
        assertTrue(c.send(numberedFrame(n)), "a frame sent while CONNECTED is accepted during the swap");
        c.disconnect();
        c.send(numberedFrame(n + 1));
        c.handshakeCompleted(handshake(PEER, 2));
        c.send(numberedFrame(n + 2));
        RecordingConnectionListener late = new RecordingConnectionListener();
        c.addListener(late);
        return late;
    }

    /** No engine got a command while handing over or after, and no call went through more than one engine. */
    private void assertTheManagerKeptTheProtocol() {
        for (InstrumentedStrategy s : new InstrumentedStrategy[] {primary, secondary}) {
            if (s != null) {
                assertEquals(List.of(), s.misplacedCommands(), "commands reached an engine of " + s.name()
                        + " while it handed over or after");
                assertTrue(s.maxDepth() <= 1, "a call went through " + s.maxDepth() + " engines of " + s.name());
            }
        }
    }

    /** A sender of numbered frames with a bounded backlog, like a real MIDI stream; fails on a refused frame. */
    private Workers sender(NetworkConnection c, RecordingPeerLink link, AtomicInteger accepted) {
        return new Workers("sender", 1, (i, stopped) -> {
            int n = 0;
            while (!stopped.getAsBoolean()) {
                if (n - link.dataCount() > 256) {
                    Thread.yield();
                    continue;
                }
                if (!c.send(numberedFrame(n))) {
                    throw new AssertionError("frame " + n + " refused by a connected connection");
                }
                accepted.set(++n);
            }
        });
    }

    /** The link got exactly frames 0..total-1, in order. */
    private static void assertAllFramesInOrder(RecordingPeerLink link, int total) {
        waiting().until(() -> link.dataCount() >= total);
        List<RecordingPeerLink.Sent> sent = link.sent();
        assertEquals(total, sent.size(), "frames duplicated");
        for (int i = 0; i < total; i++) {
            if (numberOf(sent.get(i).frame()) != i) {
                fail("frame " + i + " lost, duplicated or reordered: the link got " + numberOf(sent.get(i).frame())
                        + " (" + total + " frames)");
            }
        }
    }

    @Test
    @DisplayName("Hot swap: a live connection moves to the other strategy and back with traffic flowing, nothing "
            + "lost, duplicated or reordered, the same object for every consumer")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldSwapALiveConnectionBothWaysWithTrafficFlowing() throws InterruptedException {
        primary();
        InstrumentedStrategy b = secondary();
        RecordingPeerLink link = new RecordingPeerLink();
        NetworkConnection c = create(track(ControllableHandshaker.scripted()), link);
        RecordingConnectionListener l = new RecordingConnectionListener();
        c.addListener(l);
        List<DeviceInfo> peerDevices = devices(3, "swap");
        c.handshakeCompleted(handshake(PEER, peerDevices));
        awaitState(c, CONNECTED);
        waiting().until(() -> l.size() == 2);
        long heartbeatAt = System.nanoTime();
        c.notifyHeartbeat();
        waiting().until(() -> c.getTimeSinceLastHeartbeat() >= 30);

        AtomicInteger accepted = new AtomicInteger();
        Workers sender = sender(c, link, accepted);
        Workers querier = new Workers("swap-reader", 2, (i, stopped) -> {
            while (!stopped.getAsBoolean()) {
                ConnectionState s = c.getState();
                if (s != CONNECTED) {
                    throw new AssertionError("a reader saw " + s + " during the swap");
                }
                if (!c.getRemoteId().equals(Optional.of(PEER)) || !c.getRemoteDevices().equals(peerDevices)) {
                    throw new AssertionError("a reader saw the peer or devices change during the swap");
                }
            }
        });

        waiting().until(() -> accepted.get() >= 1000);
        long t0 = System.nanoTime();
        swapToOther();
        double there = (System.nanoTime() - t0) / 1e3;

        assertEquals(1, b.adopted(), "the other strategy did not take the connection over");
        assertEquals(b.name(), c.strategy());
        assertEquals(CONNECTED, c.getState());
        assertEquals(Optional.of(PEER), c.getRemoteId());
        assertEquals(peerDevices, c.getRemoteDevices());
        long carriedAge = c.getTimeSinceLastHeartbeat();
        long ageNow = (System.nanoTime() - heartbeatAt) / 1_000_000; // heartbeatAt was read before the heartbeat
        assertTrue(carriedAge >= 30 && carriedAge <= ageNow,
                "heartbeat age not carried over: " + carriedAge + " ms, expected 30.." + ageNow);

        int atSwap = accepted.get();
        waiting().until(() -> accepted.get() >= atSwap + 1000);
        long t1 = System.nanoTime();
        swapBack();
        double back = (System.nanoTime() - t1) / 1e3;
        int atBack = accepted.get();
        waiting().until(() -> accepted.get() >= atBack + 1000);
        sender.stopAndJoin(WAIT);
        querier.stopAndJoin(WAIT);
        assertNoProblems(sender.problems);
        assertNoProblems(querier.problems);
        assertAllFramesInOrder(link, accepted.get());

        assertEquals(name(), c.strategy());
        assertEquals(CONNECTED, c.getState());
        assertTrue(c.getTimeSinceLastHeartbeat() >= carriedAge, "heartbeat age reset by the swap back");
        List<DeviceInfo> marker = devices(5, "after-swap");
        c.handshakeCompleted(handshake(PEER, marker));
        awaitMarker(l, marker);
        assertEquals(List.of("DISCONNECTED>CONNECTED"), l.states(), "listeners saw a state change");
        for (Call call : l.calls()) {
            assertSame(c, call.connection(), "a callback named another object than the connection");
        }
        assertTheManagerKeptTheProtocol();
        report("%d frames through 2 swaps (%s -> %s in %.0f us, back in %.0f us): none lost, duplicated or "
                + "reordered; listeners saw no state change", accepted.get(), name(), b.name(), there, back);
    }

    @Test
    @DisplayName("Hot swap: commands issued while a connection moves are held and run on the new engine, in order")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldHoldCommandsIssuedDuringASwapAndRunThemInOrder() throws InterruptedException {
        InstrumentedStrategy a = primary();
        secondary();
        RecordingPeerLink link = new RecordingPeerLink();
        RecordingConnectionListener l = new RecordingConnectionListener();
        NetworkConnection c = connectedAndHeard(link, l);

        CountDownLatch atGate = a.closeGate();
        Workers swapper = new Workers("swapper", 1, (i, stopped) -> swapToOther());
        assertTrue(atGate.await(WAIT.toSeconds(), TimeUnit.SECONDS), "the swap never began");
        RecordingConnectionListener late = commandsDuringHandover(c, 0); // frame 1 is refused by the new engine
        assertEquals(0, link.dataCount(), "a frame went out while the connection was held");
        a.openGate();
        swapper.join(WAIT);
        assertNoProblems(swapper.problems);

        awaitState(c, CONNECTED);
        waiting().until(() -> l.states().size() == 3 && l.deviceLists().size() == 2);
        assertEquals(List.of("DISCONNECTED>CONNECTED", "CONNECTED>DISCONNECTED", "DISCONNECTED>CONNECTED"),
                l.states());
        assertEquals(List.of(devices(1), devices(2)), l.deviceLists());
        waiting().until(() -> link.dataCount() == 2);
        assertEquals(List.of(0, 2), link.frameNumbers());
        assertEquals(secondary().name(), c.strategy());
        waiting().until(() -> c.metrics().droppedMessages() >= 1);

        c.disconnect();
        awaitState(c, DISCONNECTED);
        waiting().until(() -> late.states().contains("CONNECTED>DISCONNECTED"));
        assertTheManagerKeptTheProtocol();
    }

    @Test
    @DisplayName("Hot swap: a connection moved while CONNECTING still connects")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldFinishAConnectionSwappedWhileConnecting() throws InterruptedException {
        primary();
        secondary();
        ControllableHandshaker h = track(ControllableHandshaker.gated(() -> handshake(PEER, 2)));
        NetworkConnection c = create(h, new RecordingPeerLink());
        RecordingConnectionListener l = new RecordingConnectionListener();
        c.addListener(l);
        c.connect();
        waiting().until(() -> h.calls() == 1);

        Workers swapper = new Workers("swapper", 1, (i, stopped) -> swapToOther());
        h.open(); // the old engine may wait for its handshake, or the new one runs its own
        swapper.join(WAIT);
        assertNoProblems(swapper.problems);
        awaitState(c, CONNECTED);
        waiting().until(() -> h.inFlight() == 0);
        List<DeviceInfo> marker = devices(4, "marker");
        c.handshakeCompleted(handshake(PEER, marker));
        awaitMarker(l, marker);

        assertEquals(List.of("DISCONNECTED>CONNECTING", "CONNECTING>CONNECTED"), l.states());
        assertEquals(List.of(devices(2), marker), l.deviceLists());
        assertEquals(Optional.of(PEER), c.getRemoteId());
        assertEquals(secondary().name(), c.strategy());
        assertTheManagerKeptTheProtocol();
    }

    @Test
    @DisplayName("Hot swap called off: when the other strategy cannot take a connection over, it goes on where it "
            + "was, runs the held commands in order, and can move later")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldGoOnWhereItWasWhenTheOtherStrategyCannotAdopt() throws InterruptedException {
        InstrumentedStrategy a = primary();
        InstrumentedStrategy b = secondary();
        RecordingPeerLink link = new RecordingPeerLink();
        RecordingConnectionListener l = new RecordingConnectionListener();
        NetworkConnection c = connectedAndHeard(link, l);
        assertTrue(c.send(numberedFrame(0)));
        waiting().until(() -> link.dataCount() == 1);

        b.refuseAdopt(true);
        CountDownLatch atGate = a.closeGate();
        Workers swapper = new Workers("swapper", 1, (i, stopped) -> {
            if (sameName()) {
                host.add(b, 10);
                secondaryAdded = true;
            } else {
                if (!secondaryAdded) {
                    host.add(b, 0);
                    secondaryAdded = true;
                }
                SwapResult r = control().change(StrategyChange.toDefault(b.name()));
                if (r.failures().size() != 1 || r.migrated() != 0) {
                    throw new AssertionError("expected one failure and no move, got " + r);
                }
            }
        });
        assertTrue(atGate.await(WAIT.toSeconds(), TimeUnit.SECONDS), "the swap never began");
        RecordingConnectionListener late = commandsDuringHandover(c, 1); // frame 2 is dropped: disconnected then
        a.openGate();
        swapper.join(WAIT);
        assertNoProblems(swapper.problems);

        waiting().until(() -> l.states().size() == 3 && l.deviceLists().size() == 2);
        assertEquals(List.of("DISCONNECTED>CONNECTED", "CONNECTED>DISCONNECTED", "DISCONNECTED>CONNECTED"),
                l.states());
        waiting().until(() -> link.dataCount() == 3);
        assertEquals(List.of(0, 1, 3), link.frameNumbers(), "held frames sent in order, the one after disconnect "
                + "dropped");
        assertEquals(name(), c.strategy());
        assertEquals(0, b.adopted());
        assertEquals(devices(2), c.getRemoteDevices());
        c.disconnect();
        awaitState(c, DISCONNECTED);
        waiting().until(() -> late.states().contains("CONNECTED>DISCONNECTED"));

        if (sameName()) { // b goes before c reconnects, or its CONNECTED would make the manager try b again
            host.remove(b);
            secondaryAdded = false;
        }
        b.refuseAdopt(false);
        c.handshakeCompleted(handshake(PEER, 3));
        awaitState(c, CONNECTED);
        swapToOther(); // a later move works as if the first had never begun
        assertEquals(1, b.adopted());
        assertEquals(CONNECTED, c.getState());
        assertEquals(devices(3), c.getRemoteDevices());
        assertTheManagerKeptTheProtocol();
    }

    @Test
    @DisplayName("Hot swap with several producers and listeners: ten moves while four threads send to two "
            + "connections; per producer nothing is lost, duplicated or reordered; listeners hear nothing")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldKeepEveryProducersOrderAcrossSwaps() throws InterruptedException {
        primary();
        secondary();
        int producers = 4;
        List<RecordingPeerLink> links = List.of(new RecordingPeerLink(), new RecordingPeerLink());
        List<RecordingConnectionListener> listeners = List.of(new RecordingConnectionListener(),
                new RecordingConnectionListener(), new RecordingConnectionListener());
        List<NetworkConnection> cs = new ArrayList<>();
        for (RecordingPeerLink link : links) {
            NetworkConnection c = create(track(ControllableHandshaker.scripted()), link);
            listeners.forEach(c::addListener);
            c.handshakeCompleted(handshake(NodeId.random(), 2));
            awaitState(c, CONNECTED);
            cs.add(c);
        }
        int perProducer = 1 << 20; // frame number = producer << 20 | sequence
        AtomicInteger[] sentBy = new AtomicInteger[producers];
        for (int p = 0; p < producers; p++) {
            sentBy[p] = new AtomicInteger();
        }
        Workers senders = new Workers("producer", producers, (p, stopped) -> {
            NetworkConnection c = cs.get(p % cs.size());
            RecordingPeerLink link = links.get(p % links.size());
            int n = 0;
            while (!stopped.getAsBoolean() && n < perProducer) {
                if (n - link.dataCount() / 2 > 128) { // two producers per link: at most ~256 in flight per connection
                    Thread.yield();
                    continue;
                }
                if (!c.send(numberedFrame(p << 20 | n))) {
                    throw new AssertionError("producer " + p + ": frame " + n + " refused");
                }
                sentBy[p].set(++n);
            }
        });
        for (int swap = 0; swap < 10; swap++) {
            int before = sentBy[0].get();
            waiting().until(() -> sentBy[0].get() >= before + 200);
            if (swap % 2 == 0) {
                swapToOther();
            } else {
                swapBack();
            }
        }
        senders.stopAndJoin(WAIT);
        assertNoProblems(senders.problems);

        int total = 0;
        for (AtomicInteger a : sentBy) {
            total += a.get();
        }
        int expected = total;
        waiting().until(() -> links.stream().mapToInt(RecordingPeerLink::dataCount).sum() >= expected);
        for (int k = 0; k < links.size(); k++) {
            int[] next = new int[producers];
            for (RecordingPeerLink.Sent sent : links.get(k).sent()) {
                int number = numberOf(sent.frame());
                int p = number >>> 20;
                int seq = number & (perProducer - 1);
                assertEquals(k, p % links.size(), "a frame of producer " + p + " reached the wrong peer");
                assertEquals(next[p], seq, "producer " + p + ": frame lost, duplicated or reordered");
                next[p]++;
            }
            for (int p = k; p < producers; p += links.size()) {
                assertEquals(sentBy[p].get(), next[p], "producer " + p + ": frames missing");
            }
        }
        for (RecordingConnectionListener l : listeners) {
            assertEquals(List.of("DISCONNECTED>CONNECTED", "DISCONNECTED>CONNECTED"), l.states(),
                    "a listener saw a state change from a swap");
        }
        assertTheManagerKeptTheProtocol();
        report("%d frames from %d producers to 2 connections across 10 swaps, each producer's in order", total,
                producers);
    }

    @Test
    @DisplayName("Hot swap while a listener is stuck: the move finishes, MIDI keeps flowing, and the listener gets "
            + "every later event in order once it returns")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldSwapWhileAListenerIsStuck() throws Exception {
        primary();
        secondary();
        RecordingPeerLink link = new RecordingPeerLink();
        RecordingConnectionListener l = new RecordingConnectionListener();
        NetworkConnection c = connectedAndHeard(link, l);
        List<DeviceInfo> trap = devices(4, "trap");
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        c.addListener(new ConnectionListener() {
            @Override
            public void stateChanged(NetworkConnection conn, ConnectionState from, ConnectionState to) {
            }

            @Override
            public void devicesChanged(NetworkConnection conn, List<DeviceInfo> devices) {
                if (devices.equals(trap)) {
                    entered.countDown();
                    try {
                        release.await(60, TimeUnit.SECONDS); // stuck, but bounded
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        });
        c.handshakeCompleted(handshake(PEER, trap));
        assertTrue(entered.await(WAIT.toSeconds(), TimeUnit.SECONDS), "the stuck listener was never called");
        try {
            AtomicInteger accepted = new AtomicInteger();
            Workers sender = sender(c, link, accepted);
            waiting().until(() -> accepted.get() >= 200);
            within(WAIT, "a swap with a stuck listener", () -> {
                swapToOther();
                return null;
            });
            int atSwap = accepted.get();
            waiting().until(() -> accepted.get() >= atSwap + 200);
            sender.stopAndJoin(WAIT);
            assertNoProblems(sender.problems);
            assertAllFramesInOrder(link, accepted.get());
            c.disconnect();
            awaitState(c, DISCONNECTED);
            assertEquals(secondary().name(), c.strategy());
        } finally {
            release.countDown();
        }
        waiting().until(() -> l.states().size() == 2);
        assertEquals(List.of("DISCONNECTED>CONNECTED", "CONNECTED>DISCONNECTED"), l.states());
        assertEquals(List.of(devices(1), trap), l.deviceLists());
        assertTheManagerKeptTheProtocol();
    }

    @Test
    @DisplayName("Hot swap interrupted by a strategy leaving: every connection ends on a strategy that is there, "
            + "connected, with nothing lost")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldKeepEveryConnectionWhenAStrategyLeavesDuringASwap() throws InterruptedException {
        primary();
        InstrumentedStrategy b = secondary();
        int n = 20;
        List<RecordingPeerLink> links = new ArrayList<>();
        List<NetworkConnection> cs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            RecordingPeerLink link = new RecordingPeerLink();
            NetworkConnection c = create(track(ControllableHandshaker.scripted()), link);
            c.handshakeCompleted(handshake(NodeId.random(), 1));
            links.add(link);
            cs.add(c);
        }
        for (NetworkConnection c : cs) {
            awaitState(c, CONNECTED);
        }
        AtomicInteger accepted = new AtomicInteger();
        Workers sender = sender(cs.get(0), links.get(0), accepted);
        waiting().until(() -> accepted.get() >= 200);

        Workers swapper = new Workers("swapper", 1, (i, stopped) -> swapToOther());
        waiting().until(() -> b.adopted() >= 1);
        host.remove(b); // leaves in the middle: what moved comes back, what did not stays
        secondaryAdded = false;
        swapper.join(WAIT);
        int atEnd = accepted.get();
        waiting().until(() -> accepted.get() >= atEnd + 200);
        sender.stopAndJoin(WAIT);
        assertNoProblems(sender.problems);

        for (NetworkConnection c : cs) {
            assertEquals(name(), c.strategy(), "a connection stayed with the strategy that left");
            assertEquals(CONNECTED, c.getState());
        }
        assertAllFramesInOrder(links.get(0), accepted.get());
        assertTheManagerKeptTheProtocol();
        report("%d connections: %d had moved when the other strategy left; all back, none lost", n, b.adopted());
    }

    @Test
    @DisplayName("Hot swap forty times in a row: every call still goes through one engine, nothing lost")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldSwapFortyTimesInARowWithOneForwardAtMost() throws InterruptedException {
        InstrumentedStrategy a = primary();
        InstrumentedStrategy b = secondary();
        RecordingPeerLink link = new RecordingPeerLink();
        RecordingConnectionListener l = new RecordingConnectionListener();
        NetworkConnection c = connectedAndHeard(link, l);
        AtomicInteger accepted = new AtomicInteger();
        Workers sender = sender(c, link, accepted);
        long t0 = System.nanoTime();
        for (int swap = 0; swap < 40; swap++) {
            int before = accepted.get();
            waiting().until(() -> accepted.get() >= before + 50);
            if (swap % 2 == 0) {
                swapToOther();
            } else {
                swapBack();
            }
        }
        double ms = (System.nanoTime() - t0) / 1e6;
        sender.stopAndJoin(WAIT);
        assertNoProblems(sender.problems);
        assertAllFramesInOrder(link, accepted.get());

        assertEquals(40, a.handoversBegun() + b.handoversBegun());
        assertEquals(name(), c.strategy());
        assertEquals(CONNECTED, c.getState());
        for (int i = 0; i < 1000; i++) {
            c.getState();
            c.checkHeartbeat();
        }
        assertEquals(1, a.maxDepth(), "calls went through more than one engine after 40 swaps");
        assertEquals(List.of("DISCONNECTED>CONNECTED"), l.states());
        assertTheManagerKeptTheProtocol();
        report("40 swaps in %.0f ms with %d frames flowing; depth stays 1", ms, accepted.get());
    }

    @Test
    @DisplayName("Strategies leaving: connections move to what remains, wait with none left (keeping peer and "
            + "state, sending nothing), and resume when a strategy comes back")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldMoveConnectionsAwayFromAStrategyThatLeaves() {
        InstrumentedStrategy a = primary();
        InstrumentedStrategy b = secondary();
        RecordingPeerLink link = new RecordingPeerLink();
        RecordingConnectionListener l = new RecordingConnectionListener();
        NetworkConnection c = connectedAndHeard(link, l);
        host.add(b, -10); // lower ranking, not the default: nothing moves
        assertEquals(0, b.adopted());

        host.remove(a);
        assertEquals(b.name(), c.strategy());
        assertEquals(1, b.adopted());
        assertTrue(c.send(numberedFrame(0)));
        waiting().until(() -> link.dataCount() == 1);

        host.remove(b);
        assertEquals(CONNECTED, c.getState(), "the connection lost its state with the last strategy");
        assertEquals(Optional.of(PEER), c.getRemoteId());
        assertEquals(devices(1), c.getRemoteDevices());
        assertFalse(c.send(numberedFrame(1)), "sent with no strategy");
        assertTrue(control().status().degraded().isPresent(), "no strategy, and the status does not say so");
        c.notifyHeartbeat();
        c.checkHeartbeat();

        host.add(a, 0);
        assertEquals(name(), c.strategy());
        assertEquals(CONNECTED, c.getState());
        assertTrue(c.send(numberedFrame(2)));
        waiting().until(() -> link.dataCount() == 2);
        assertEquals(List.of(0, 2), link.frameNumbers());
        assertEquals(List.of("DISCONNECTED>CONNECTED"), l.states());
        assertTrue(control().status().degraded().isEmpty(), control().status().toString());
        assertTheManagerKeptTheProtocol();
    }

    // ---- the engine SPI itself, as the manager relies on it ----------------------------------------------------------

    private ConnectionEngine engine(ControllableHandshaker h, RecordingPeerLink link, RecordingConnectionListener l) {
        return strategy().create(FakePeers.context(h, link), l.asEngineEvents());
    }

    @Test
    @DisplayName("Engine handover: the state, peer, devices, heartbeat time and unsent MIDI move; no event for the "
            + "move; the old engine answers queries and stays silent")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldHandAnEngineOverWithItsWholeState() {
        RecordingPeerLink link = new RecordingPeerLink();
        RecordingConnectionListener l1 = new RecordingConnectionListener();
        ConnectionEngine e1 = engine(track(ControllableHandshaker.scripted()), link, l1);
        List<DeviceInfo> peerDevices = devices(3, "engine");
        e1.handshakeCompleted(handshake(PEER, peerDevices));
        waiting().until(() -> e1.getState() == CONNECTED && l1.deviceLists().size() == 1);
        for (int i = 0; i < 100; i++) {
            assertTrue(e1.send(numberedFrame(i)));
        }
        waiting().until(() -> e1.getTimeSinceLastHeartbeat() >= 20);

        Handover h = e1.beginHandover();
        int eventsAtBegin = l1.size();
        assertEquals(CONNECTED, h.state());
        assertEquals(PEER, h.peer().orElseThrow().node().id());
        assertEquals(peerDevices, h.peer().orElseThrow().devices());
        assertTrue(h.lastHeartbeatNanos() != Long.MIN_VALUE);
        RecordingConnectionListener l2 = new RecordingConnectionListener();
        ConnectionEngine e2 = strategy().adopt(h, l2.asEngineEvents());
        e1.completeHandover();
        for (int i = 100; i < 200; i++) {
            assertTrue(e2.send(numberedFrame(i)));
        }
        assertAllFramesInOrder(link, 200);

        assertEquals(CONNECTED, e2.getState());
        assertEquals(Optional.of(PEER), e2.getRemoteId());
        assertEquals(peerDevices, e2.getRemoteDevices());
        assertTrue(e2.getTimeSinceLastHeartbeat() >= 20, "heartbeat age not carried over");
        assertEquals(CONNECTED, e1.getState(), "the old engine no longer answers queries");
        assertEquals(Optional.of(PEER), e1.getRemoteId());
        e2.disconnect();
        waiting().until(() -> l2.states().equals(List.of("CONNECTED>DISCONNECTED")));
        assertEquals(eventsAtBegin, l1.size(), "the old engine raised an event after beginHandover");
        e2.close();
    }

    @Test
    @DisplayName("Engine handover while CONNECTING: a late handshake result changes nothing in the old engine; the "
            + "new one connects")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldIgnoreALateHandshakeResultAfterBeginHandover() {
        ControllableHandshaker h = track(ControllableHandshaker.scripted());
        RecordingConnectionListener l1 = new RecordingConnectionListener();
        ConnectionEngine e1 = engine(h, new RecordingPeerLink(), l1);
        e1.connect();
        waiting().until(() -> h.calls() == 1 && l1.states().size() == 1);

        Handover ho = e1.beginHandover(); // may wait (bounded) for the handshake; it gets no answer yet
        assertEquals(CONNECTING, ho.state());
        h.respond(handshake(PEER, 2)); // the old engine's late answer (or the new engine's, if it ran first)
        h.respond(handshake(PEER, 2));
        RecordingConnectionListener l2 = new RecordingConnectionListener();
        ConnectionEngine e2 = strategy().adopt(ho, l2.asEngineEvents());
        e1.completeHandover();
        waiting().until(() -> e2.getState() == CONNECTED);
        waiting().until(() -> h.inFlight() == 0);

        assertEquals(List.of("DISCONNECTED>CONNECTING"), l1.states(), "the old engine acted on a late result");
        assertEquals(CONNECTING, e1.getState());
        // The event reaches the listener on the engine's notification thread, after getState() already says CONNECTED.
        waiting().untilAsserted(() -> assertEquals(List.of("CONNECTING>CONNECTED"), l2.states()));
        e2.close();
    }

    @Test
    @DisplayName("Engine handover called off: the engine goes on, and can hand over later")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldResumeAnEngineWhoseHandoverIsCalledOff() {
        RecordingPeerLink link = new RecordingPeerLink();
        RecordingConnectionListener l = new RecordingConnectionListener();
        ConnectionEngine e = engine(track(ControllableHandshaker.scripted()), link, l);
        e.handshakeCompleted(handshake(PEER, 1));
        waiting().until(() -> e.getState() == CONNECTED);
        assertTrue(e.send(numberedFrame(0)));

        e.beginHandover();
        e.abortHandover();
        assertTrue(e.send(numberedFrame(1)));
        e.disconnect();
        waiting().until(() -> l.states().equals(List.of("DISCONNECTED>CONNECTED", "CONNECTED>DISCONNECTED")));
        assertAllFramesInOrder(link, 2);
        e.handshakeCompleted(handshake(PEER, 3));
        waiting().until(() -> e.getState() == CONNECTED);

        Handover h = e.beginHandover();
        assertEquals(devices(3), h.peer().orElseThrow().devices());
        ConnectionEngine e2 = strategy().adopt(h, new RecordingConnectionListener().asEngineEvents());
        e.completeHandover();
        assertEquals(CONNECTED, e2.getState());
        e2.close();
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldRefuseASecondHandoverAndTheHandoverOfAClosedEngine() {
        RecordingConnectionListener l = new RecordingConnectionListener();
        ConnectionEngine e = engine(track(ControllableHandshaker.scripted()), new RecordingPeerLink(), l);
        e.handshakeCompleted(handshake(PEER, 1));
        waiting().until(() -> e.getState() == CONNECTED);
        Handover h = e.beginHandover();
        assertThrows(IllegalStateException.class, e::beginHandover);
        ConnectionEngine e2 = strategy().adopt(h, new RecordingConnectionListener().asEngineEvents());
        e.completeHandover();
        assertThrows(IllegalStateException.class, e::beginHandover);
        e2.close();

        ConnectionEngine d = engine(track(ControllableHandshaker.scripted()), new RecordingPeerLink(), l);
        d.close();
        waiting().until(() -> d.getState() == DISCONNECTED);
        assertThrows(IllegalStateException.class, d::beginHandover);
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldRefuseToCallOffAHandoverThatIsNotUnderWay() {
        RecordingConnectionListener l = new RecordingConnectionListener();
        ConnectionEngine e = engine(track(ControllableHandshaker.scripted()), new RecordingPeerLink(), l);
        e.handshakeCompleted(handshake(PEER, 1));
        waiting().until(() -> e.getState() == CONNECTED);
        assertThrows(IllegalStateException.class, e::abortHandover, "no handover has begun");
        e.beginHandover();
        e.abortHandover();
        assertThrows(IllegalStateException.class, e::abortHandover, "already called off");
        assertEquals(CONNECTED, e.getState());
        e.close();
    }
}
