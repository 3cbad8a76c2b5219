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
import org.midimesh.api.connection.ConnectionHandover;
import org.midimesh.api.connection.ConnectionListener;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.ConnectionStrategy;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.test.DeadlockWatchdog;
import org.midimesh.api.test.contract.RecordingConnectionListener.Call;
import org.midimesh.api.test.contract.RecordingConnectionListener.Kind;
import org.midimesh.api.transport.DataFrame;

/**
 * The contract every {@link ConnectionStrategy} keeps, as one suite run against each strategy (JCTools
 * {@code QueueSanityTest} style): a strategy module subclasses it and supplies {@link #newStrategy()},
 * {@link #shutdown(ConnectionStrategy)} and {@link #name()}; to run the hot-swap tests it also supplies
 * {@link #otherStrategy()}. Behaviour only some strategies have is declared by {@link #hasCommandQueue()} and
 * {@link #isLockFree()} and gated with assumptions, never with {@code if}.
 * <p>Besides the API Javadoc, the suite relies on these points of the contract:
 * <ul>
 * <li>commands issued by one thread take effect in that order, and listener callbacks of one connection arrive in the
 * order of the changes, on a thread of the strategy (never the caller's), with no lock held;</li>
 * <li>a disconnect, goodbye, close or inbound handshake during an outbound handshake wins over its late result;</li>
 * <li>{@code devicesChanged} follows a handshake that brings a device list different from the current one (the suite
 * uses a unique list as an ordering marker);</li>
 * <li>after {@link #shutdown} every connection the strategy made reads DISCONNECTED, refuses to send, ignores commands
 * without throwing, and the strategy's {@code midimesh-*} threads end;</li>
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
            if (other != null) {
                shutdownOther(other);
            }
        } finally {
            if (strategy != null && !strategyStopped) {
                shutdown(strategy);
            }
        }
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
        return strategy().create(FakePeers.context(h, link));
    }

    private NetworkConnection create(ControllableHandshaker h, RecordingPeerLink link, Duration heartbeatTimeout) {
        return strategy().create(FakePeers.context(h, link, heartbeatTimeout));
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

    private static Set<String> midimeshThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith("midimesh-") && !n.startsWith("midimesh-test-"))
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

        assertRejected(() -> strategy().create(null));
        assertRejected(() -> strategy().adopt(null));
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
        Set<String> before = midimeshThreads();
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

    // ---- hot swap: handing a live connection to another strategy and back ------------------------------------------

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
     * What callers do to a connection while it hands over: send frame {@code n}, disconnect, send {@code n + 1} (which
     * finds it disconnected), reconnect with 2 devices, send {@code n + 2}, add a listener (returned).
     */
    private static RecordingConnectionListener commandsDuringHandover(NetworkConnection c, int n) {
        assertTrue(c.send(numberedFrame(n)), "a frame sent while CONNECTED is accepted during the handover");
        c.disconnect();
        c.send(numberedFrame(n + 1));
        c.handshakeCompleted(handshake(PEER, 2));
        c.send(numberedFrame(n + 2));
        RecordingConnectionListener late = new RecordingConnectionListener();
        c.addListener(late);
        return late;
    }

    /** The three steps of a swap, as the strategy registry does them. */
    private static NetworkConnection handOver(NetworkConnection from, ConnectionStrategy to) {
        ConnectionHandover h = from.beginHandover();
        NetworkConnection next = to.adopt(h);
        from.completeHandover(next);
        return next;
    }

    @Test
    @DisplayName("Hot swap: a live connection moves to the other strategy and back with traffic flowing, nothing "
            + "lost, duplicated or reordered")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldHandOverALiveConnectionBothWaysWithTrafficFlowing() throws InterruptedException {
        ConnectionStrategy a = strategy();
        ConnectionStrategy b = other();
        RecordingPeerLink link = new RecordingPeerLink();
        ControllableHandshaker h = track(ControllableHandshaker.scripted());
        NetworkConnection c = a.create(FakePeers.context(h, link));
        RecordingConnectionListener l = new RecordingConnectionListener();
        c.addListener(l);
        List<DeviceInfo> peerDevices = devices(3, "swap");
        c.handshakeCompleted(handshake(PEER, peerDevices));
        awaitState(c, CONNECTED);
        waiting().until(() -> l.size() == 2);
        long heartbeatAt = System.nanoTime();
        c.notifyHeartbeat();
        waiting().until(() -> c.getTimeSinceLastHeartbeat() >= 30);

        AtomicReference<NetworkConnection> ref = new AtomicReference<>(c);
        AtomicInteger accepted = new AtomicInteger();
        Workers sender = new Workers("sender", 1, (i, stopped) -> {
            int n = 0;
            while (!stopped.getAsBoolean()) {
                if (n - link.dataCount() > 256) { // a bounded backlog, like a real MIDI stream
                    Thread.yield();
                    continue;
                }
                if (!ref.get().send(numberedFrame(n))) {
                    throw new AssertionError("frame " + n + " refused by a connected connection");
                }
                accepted.set(++n);
            }
        });
        Workers querier = new Workers("swap-reader", 2, (i, stopped) -> {
            while (!stopped.getAsBoolean()) {
                NetworkConnection now = ref.get();
                ConnectionState s = now.getState();
                if (s != CONNECTED) {
                    throw new AssertionError("a reader saw " + s + " during the swap");
                }
                if (!now.getRemoteId().equals(Optional.of(PEER)) || !now.getRemoteDevices().equals(peerDevices)) {
                    throw new AssertionError("a reader saw the peer or devices change during the swap");
                }
            }
        });

        waiting().until(() -> accepted.get() >= 1000);
        long t0 = System.nanoTime();
        ConnectionHandover h1 = c.beginHandover();
        NetworkConnection c2 = b.adopt(h1);
        c.completeHandover(c2);
        ref.set(c2);
        double there = (System.nanoTime() - t0) / 1e3;

        assertEquals(CONNECTED, h1.state());
        assertEquals(PEER, h1.peer().orElseThrow().node().id());
        assertEquals(peerDevices, h1.peer().orElseThrow().devices());
        assertTrue(h1.listeners().contains(l), "the listener is not handed over");
        assertSame(link, h1.context().link());
        assertEquals(b.name(), c2.strategy());
        assertEquals(CONNECTED, c2.getState());
        assertEquals(Optional.of(PEER), c2.getRemoteId());
        assertEquals(peerDevices, c2.getRemoteDevices());
        long carriedAge = c2.getTimeSinceLastHeartbeat();
        long ageNow = (System.nanoTime() - heartbeatAt) / 1_000_000; // heartbeatAt was read before the heartbeat
        assertTrue(carriedAge >= 30 && carriedAge <= ageNow,
                "heartbeat age not carried over: " + carriedAge + " ms, expected 30.." + ageNow);

        int atSwap = accepted.get();
        waiting().until(() -> accepted.get() >= atSwap + 1000);
        long t1 = System.nanoTime();
        NetworkConnection c3 = handOver(c2, a);
        ref.set(c3);
        double back = (System.nanoTime() - t1) / 1e3;
        int atBack = accepted.get();
        waiting().until(() -> accepted.get() >= atBack + 1000);
        sender.stopAndJoin(WAIT);
        querier.stopAndJoin(WAIT);
        assertNoProblems(sender.problems);
        assertNoProblems(querier.problems);

        int total = accepted.get();
        waiting().until(() -> link.dataCount() >= total);
        List<RecordingPeerLink.Sent> sent = link.sent();
        assertEquals(total, sent.size(), "frames duplicated");
        for (int i = 0; i < total; i++) {
            if (numberOf(sent.get(i).frame()) != i) {
                fail("frame " + i + " lost, duplicated or reordered: the link got " + numberOf(sent.get(i).frame())
                        + " (" + total + " frames)");
            }
            assertEquals(PEER, sent.get(i).peer().id());
        }

        assertEquals(a.name(), c3.strategy());
        assertEquals(CONNECTED, c3.getState());
        assertTrue(c3.getTimeSinceLastHeartbeat() >= carriedAge, "heartbeat age reset by the swap back");
        List<DeviceInfo> marker = devices(5, "after-swap");
        c3.handshakeCompleted(handshake(PEER, marker));
        awaitMarker(l, marker);
        assertEquals(List.of("DISCONNECTED>CONNECTED"), l.states(), "listeners saw a state change");
        Call last = l.calls().get(l.size() - 1);
        assertSame(c3, last.connection(), "callbacks after the swap must name the successor");
        assertEquals(CONNECTED, c.getState(), "the first predecessor no longer forwards");
        assertNotNull(a.metrics());
        assertNotNull(b.metrics());
        report("%d frames through 2 swaps (%s -> %s in %.0f us, back in %.0f us): none lost, duplicated or "
                + "reordered; listeners saw no state change", total, a.name(), b.name(), there, back);
    }

    @Test
    @DisplayName("Hot swap: commands reaching the old connection during the swap take effect on the successor, "
            + "in order")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldReplayCommandsIssuedDuringTheHandoverOnTheSuccessorInOrder() {
        ConnectionStrategy b = other();
        RecordingPeerLink link = new RecordingPeerLink();
        RecordingConnectionListener l = new RecordingConnectionListener();
        NetworkConnection c = connectedAndHeard(link, l);

        ConnectionHandover h = c.beginHandover();
        RecordingConnectionListener late = commandsDuringHandover(c, 0); // frame 1 is refused by the successor
        assertEquals(0, link.dataCount(), "the old connection sent after beginHandover");
        NetworkConnection c2 = b.adopt(h);
        c.completeHandover(c2);

        awaitState(c2, CONNECTED);
        waiting().until(() -> l.states().size() == 3 && l.deviceLists().size() == 2);
        assertEquals(List.of("DISCONNECTED>CONNECTED", "CONNECTED>DISCONNECTED", "DISCONNECTED>CONNECTED"),
                l.states());
        assertEquals(List.of(devices(1), devices(2)), l.deviceLists());
        waiting().until(() -> link.dataCount() == 2);
        assertEquals(List.of(0, 2), link.frames().stream().map(FakePeers::numberOf).toList());
        waiting().until(() -> c2.metrics().droppedMessages() >= 1);

        c.disconnect(); // forwarded now
        awaitState(c2, DISCONNECTED);
        waiting().until(() -> late.states().contains("CONNECTED>DISCONNECTED"));
    }

    @Test
    @DisplayName("Hot swap: a connection handed over while CONNECTING still connects")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldFinishAConnectionHandedOverWhileConnecting() throws InterruptedException {
        ConnectionStrategy b = other();
        ControllableHandshaker h = track(ControllableHandshaker.gated(() -> handshake(PEER, 2)));
        NetworkConnection c = create(h, new RecordingPeerLink());
        RecordingConnectionListener l = new RecordingConnectionListener();
        c.addListener(l);
        c.connect();
        waiting().until(() -> h.calls() == 1);

        AtomicReference<NetworkConnection> successor = new AtomicReference<>();
        Workers swapper = new Workers("swapper", 1, (i, stopped) -> successor.set(handOver(c, b)));
        h.open(); // the predecessor may wait for its handshake, or the successor may run its own
        swapper.join(WAIT);
        assertNoProblems(swapper.problems);
        NetworkConnection c2 = successor.get();
        awaitState(c2, CONNECTED);
        waiting().until(() -> h.inFlight() == 0);
        List<DeviceInfo> marker = devices(4, "marker");
        c2.handshakeCompleted(handshake(PEER, marker));
        awaitMarker(l, marker);

        assertEquals(List.of("DISCONNECTED>CONNECTING", "CONNECTING>CONNECTED"), l.states());
        assertEquals(List.of(devices(2), marker), l.deviceLists());
        assertEquals(Optional.of(PEER), c2.getRemoteId());
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldRefuseASecondHandoverAndTheHandoverOfAClosedConnection() {
        ConnectionStrategy b = other();
        NetworkConnection c = connected(new RecordingPeerLink(), PEER, devices(1));
        ConnectionHandover h = c.beginHandover();
        assertThrows(IllegalStateException.class, c::beginHandover);
        c.completeHandover(b.adopt(h));
        assertThrows(IllegalStateException.class, c::beginHandover);

        NetworkConnection d = create(track(ControllableHandshaker.scripted()), new RecordingPeerLink());
        d.close();
        assertThrows(IllegalStateException.class, d::beginHandover);
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldForwardToTheSuccessorAndIgnoreCloseAfterTheHandover() {
        ConnectionStrategy b = other();
        ControllableHandshaker h = track(ControllableHandshaker.answering(handshake(PEER, 2)));
        NetworkConnection c = create(h, new RecordingPeerLink());
        RecordingConnectionListener l = new RecordingConnectionListener();
        c.addListener(l);

        ConnectionHandover ho = c.beginHandover();
        assertEquals(DISCONNECTED, ho.state());
        assertEquals(Optional.empty(), ho.peer());
        assertEquals(Long.MIN_VALUE, ho.lastHeartbeatNanos());
        NetworkConnection c2 = b.adopt(ho);
        c.completeHandover(c2);
        assertEquals(DISCONNECTED, c2.getState());

        c.connect(); // forwarded: the successor handshakes through the handed-over context
        awaitState(c2, CONNECTED);
        assertEquals(1, h.calls());
        assertEquals(CONNECTED, c.getState());
        assertEquals(Optional.of(PEER), c.getRemoteId());
        assertEquals(b.name(), c.metrics().strategy(), "metrics() is forwarded like every query");
        c.close(); // a no-op after the handover
        List<DeviceInfo> marker = devices(4, "marker");
        c2.handshakeCompleted(handshake(PEER, marker));
        awaitMarker(l, marker);

        assertEquals(CONNECTED, c2.getState());
        assertEquals(List.of("DISCONNECTED>CONNECTING", "CONNECTING>CONNECTED"), l.states());
    }

    // ---- hot swap called off: no successor could be made -----------------------------------------------------------

    @Test
    @DisplayName("Hot swap called off: the connection takes over again, runs what was kept in order, and can hand "
            + "over later")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldTakeTheConnectionBackWhenTheHandoverIsCalledOff() {
        ConnectionStrategy b = other();
        RecordingPeerLink link = new RecordingPeerLink();
        RecordingConnectionListener l = new RecordingConnectionListener();
        NetworkConnection c = connectedAndHeard(link, l);
        assertTrue(c.send(numberedFrame(0)));
        waiting().until(() -> link.dataCount() == 1);

        c.beginHandover();
        RecordingConnectionListener late = commandsDuringHandover(c, 1); // frame 2 is dropped: disconnected by then
        assertEquals(1, link.dataCount(), "the connection sent while handing over");
        c.abortHandover(); // the other strategy could not adopt it

        waiting().until(() -> l.states().size() == 3 && l.deviceLists().size() == 2);
        assertEquals(List.of("DISCONNECTED>CONNECTED", "CONNECTED>DISCONNECTED", "DISCONNECTED>CONNECTED"),
                l.states());
        assertEquals(List.of(devices(1), devices(2)), l.deviceLists());
        waiting().until(() -> link.dataCount() == 3);
        assertEquals(List.of(0, 1, 3), link.frameNumbers(), "kept frames sent in order, the one after disconnect "
                + "dropped");
        assertEquals(strategy().name(), c.strategy());
        assertEquals(Optional.of(PEER), c.getRemoteId());
        assertEquals(devices(2), c.getRemoteDevices());
        assertThrows(IllegalStateException.class, c::abortHandover, "nothing left to call off");

        c.disconnect(); // runs on the connection itself again, and reaches the listener added during the handover
        awaitState(c, DISCONNECTED);
        waiting().until(() -> late.states().contains("CONNECTED>DISCONNECTED"));

        c.handshakeCompleted(handshake(PEER, 3));
        awaitState(c, CONNECTED);
        NetworkConnection c2 = handOver(c, b); // a later handover works as if the first had never begun
        assertEquals(b.name(), c2.strategy());
        assertEquals(CONNECTED, c2.getState());
        assertEquals(devices(3), c2.getRemoteDevices());
    }

    @Test
    @DisplayName("Hot swap called off while CONNECTING: the connection still connects")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldStillConnectWhenAHandoverWhileConnectingIsCalledOff() {
        ControllableHandshaker h = track(ControllableHandshaker.gated(() -> handshake(PEER, 2)));
        NetworkConnection c = create(h, new RecordingPeerLink());
        RecordingConnectionListener l = new RecordingConnectionListener();
        c.addListener(l);
        c.connect();
        waiting().until(() -> h.calls() == 1);

        ConnectionHandover ho = c.beginHandover();
        assertEquals(CONNECTING, ho.state());
        c.abortHandover();
        h.open(); // the first handshake may still count, or the connection dials again
        awaitState(c, CONNECTED);
        waiting().until(() -> h.inFlight() == 0);
        List<DeviceInfo> marker = devices(4, "marker");
        c.handshakeCompleted(handshake(PEER, marker));
        awaitMarker(l, marker);

        assertEquals(List.of("DISCONNECTED>CONNECTING", "CONNECTING>CONNECTED"), l.states());
        assertEquals(List.of(devices(2), marker), l.deviceLists());
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldRefuseToCallOffAHandoverThatIsNotUnderWay() {
        ConnectionStrategy b = other();
        NetworkConnection c = connected(new RecordingPeerLink(), PEER, devices(1));
        assertThrows(IllegalStateException.class, c::abortHandover, "no handover has begun");
        assertEquals(CONNECTED, c.getState());
        c.beginHandover();
        c.abortHandover();
        assertThrows(IllegalStateException.class, c::abortHandover, "already called off");
        NetworkConnection c2 = handOver(c, b);
        assertThrows(IllegalStateException.class, c::abortHandover, "already complete");
        assertEquals(CONNECTED, c2.getState());

        NetworkConnection d = create(track(ControllableHandshaker.scripted()), new RecordingPeerLink());
        d.close();
        assertThrows(IllegalStateException.class, d::abortHandover, "closed");
    }
}
