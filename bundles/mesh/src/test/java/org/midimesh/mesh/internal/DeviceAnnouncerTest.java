package org.midimesh.mesh.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.NodeId;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshaker;
import org.midimesh.api.test.TestLocalNode;
import org.midimesh.api.test.contract.InMemoryConnectionPool;
import org.midimesh.common.NamedThreadFactory;

/**
 * Device announcements with a pool like the mesh's (2 threads) for the delay and a thread per peer being told: every
 * connected peer is told once after the last change, each in its own task, so slow peers delay nobody.
 */
@Timeout(10)
class DeviceAnnouncerTest {

    static final Duration WAIT = Duration.ofSeconds(5);
    static final String SLOW = "127.0.0.1";
    static final String FAST = "127.0.0.2";
    static final String GONE = "127.0.0.3";
    static final String FAST_TOO = "127.0.0.4";

    final InMemoryConnectionPool pool = new InMemoryConnectionPool();
    final ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(2,
            new NamedThreadFactory("test-mesh", true));
    final MeshScheduler scheduler = new MeshScheduler(executor);
    /** Like the mesh manager's announcement threads: one per peer being told. */
    final ExecutorService tellers = Executors.newCachedThreadPool(new NamedThreadFactory("test-announce", true));
    final LocalDeviceList localList = new LocalDeviceList(TestLocalNode.of(Fixtures.LOCAL, "local", Path.of("target")),
            Fixtures.devices());
    final PeerDeviceLists peerLists = new PeerDeviceLists();
    final Map<String, NodeId> nodes = new ConcurrentHashMap<>();
    final Map<String, FakeConnection> connections = new ConcurrentHashMap<>();
    final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
    final Map<String, AtomicInteger> mostInFlight = new ConcurrentHashMap<>();
    /** Holds the handshakes with {@link #SLOW} until counted down. */
    final CountDownLatch slowAnswers = new CountDownLatch(1);
    /** The hosts whose handshakes wait for {@link #slowAnswers}. */
    final Set<String> slowHosts = ConcurrentHashMap.newKeySet();
    volatile String refusingHost = "";

    /** Answers as the node at the address, after {@link #slowAnswers} for the slow host; counts calls per host. */
    final Handshaker handshaker = (host, port) -> {
        counter(calls, host).incrementAndGet();
        int now = counter(inFlight, host).incrementAndGet();
        counter(mostInFlight, host).accumulateAndGet(now, Math::max);
        try {
            if (slowHosts.contains(host) && !slowAnswers.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IOException("timed out");
            }
            if (host.equals(refusingHost)) {
                throw new IOException("connection refused");
            }
            return Fixtures.handshake(nodes.get(host), host, port);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        } finally {
            counter(inFlight, host).decrementAndGet();
        }
    };

    static AtomicInteger counter(Map<String, AtomicInteger> counters, String host) {
        return counters.computeIfAbsent(host, h -> new AtomicInteger());
    }

    int calls(String host) {
        return counter(calls, host).get();
    }

    /** Handshakes the connection to {@code host} has taken, the first (connecting) one included. */
    int handshakes(String host) {
        return connections.get(host).handshakes.size();
    }

    @BeforeEach
    void setUp() {
        for (String host : List.of(SLOW, FAST, GONE, FAST_TOO)) {
            NodeId id = NodeId.random();
            nodes.put(host, id);
            FakeConnection c = new FakeConnection(Fixtures.context(host, 7011));
            c.handshakeCompleted(Fixtures.handshake(id, host, 7011));
            connections.put(host, c);
            pool.add(id, c);
        }
        connections.get(GONE).goodbyeReceived();
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        slowAnswers.countDown();
        scheduler.close();
        executor.shutdownNow();
        tellers.shutdownNow();
        assertTrue(executor.awaitTermination(5, TimeUnit.SECONDS));
        assertTrue(tellers.awaitTermination(5, TimeUnit.SECONDS));
    }

    DeviceAnnouncer announcer(long delayMs) {
        return new DeviceAnnouncer(pool, handshaker, localList, peerLists, scheduler, tellers, delayMs);
    }

    @Test
    void shouldTellEveryConnectedPeerOnceAfterTheLastChange() {
        DeviceAnnouncer announcer = announcer(500);
        announcer.devicesChanged(List.of());
        announcer.devicesChanged(List.of());
        announcer.devicesChanged(List.of());
        await().atMost(WAIT).until(() -> handshakes(SLOW) == 2 && handshakes(FAST) == 2 && handshakes(FAST_TOO) == 2);
        await().during(Duration.ofMillis(300)).atMost(WAIT)
                .until(() -> calls(SLOW) == 1 && calls(FAST) == 1 && calls(FAST_TOO) == 1);
        assertEquals(0, calls(GONE), "a disconnected peer is not told");
        assertEquals(ConnectionState.CONNECTED, connections.get(FAST).getState());
    }

    @Test
    void shouldNotLetASlowPeerDelayTheOthers() {
        slowHosts.add(SLOW);
        announcer(0).devicesChanged(List.of());
        await().atMost(WAIT).until(() -> handshakes(FAST) == 2 && handshakes(FAST_TOO) == 2);
        assertEquals(1, counter(inFlight, SLOW).get(), "the slow peer is still being told");
        slowAnswers.countDown();
        await().atMost(WAIT).until(() -> handshakes(SLOW) == 2);
    }

    /** Two slow peers: as many as the mesh pool has threads, which used to stall every other announcement. */
    @Test
    void shouldNotLetTwoSlowPeersDelayTheOthers() {
        slowHosts.add(SLOW);
        slowHosts.add(FAST_TOO);
        announcer(0).devicesChanged(List.of());
        await().atMost(WAIT).until(() -> handshakes(FAST) == 2);
        assertEquals(1, counter(inFlight, SLOW).get(), "the first slow peer is still being told");
        assertEquals(1, counter(inFlight, FAST_TOO).get(), "the second slow peer is still being told");
        slowAnswers.countDown();
        await().atMost(WAIT).until(() -> handshakes(SLOW) == 2 && handshakes(FAST_TOO) == 2);
    }

    @Test
    void shouldTellABusyPeerOnceMoreAfterItsAnnouncement() {
        slowHosts.add(SLOW);
        DeviceAnnouncer announcer = announcer(0);
        announcer.devicesChanged(List.of());
        await().atMost(WAIT).until(() -> calls(SLOW) == 1 && handshakes(FAST) == 2);
        announcer.devicesChanged(List.of());
        await().atMost(WAIT).until(() -> handshakes(FAST) == 3);
        assertEquals(1, calls(SLOW), "no second announcement while the first is under way");
        slowAnswers.countDown();
        await().atMost(WAIT).until(() -> handshakes(SLOW) == 3);
        await().during(Duration.ofMillis(200)).atMost(WAIT).until(() -> calls(SLOW) == 2);
        assertEquals(1, counter(mostInFlight, SLOW).get(), "one announcement at a time per peer");
    }

    @Test
    void shouldGoOnWhenAPeerCannotBeTold() {
        refusingHost = FAST;
        DeviceAnnouncer announcer = announcer(0);
        announcer.devicesChanged(List.of());
        await().atMost(WAIT).until(() -> calls(FAST) == 1 && handshakes(SLOW) == 2 && handshakes(FAST_TOO) == 2);
        assertEquals(ConnectionState.CONNECTED, connections.get(FAST).getState(),
                "a failed announcement is no failure");
        refusingHost = "";
        announcer.devicesChanged(List.of());
        await().atMost(WAIT).until(() -> handshakes(FAST) == 2);
    }

    @Test
    void shouldAnnounceNothingOnceClosing() {
        DeviceAnnouncer announcer = announcer(0);
        scheduler.close();
        announcer.devicesChanged(List.of());
        announcer.announce();
        assertEquals(0, executor.getTaskCount());
    }

    /** Issue 7's race: the device change was announced while the peer was not connected yet; it is told on CONNECTED. */
    @Test
    void shouldTellAPeerThatConnectsAfterAChangeItMissedAndOnlyThen() {
        DeviceAnnouncer announcer = announcer(0);
        connections.get(GONE).disconnect(); // not connected when the devices change
        announcer.devicesChanged(List.of());
        await().atMost(WAIT).until(() -> calls(FAST) == 1 && calls(FAST_TOO) == 1 && calls(SLOW) == 1);
        assertEquals(0, calls(GONE), "told a peer that was not connected");

        FakeConnection late = connections.get(GONE);
        late.handshakeCompleted(Fixtures.handshake(nodes.get(GONE), GONE, 7011));
        announcer.connected(late);
        await().atMost(WAIT).until(() -> calls(GONE) == 1);

        announcer.connected(connections.get(FAST)); // reconnects: it already has the current list
        announcer.connected(late);
        await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> calls(FAST) == 1 && calls(GONE) == 1);
    }

    /**
     * Issue 7: the peer's reply to our announcement was built before its own devices changed, and its announcement
     * of that change reached us first. The reply does not overwrite the newer list.
     */
    @Test
    void shouldNotLetAnOlderReplyOverwriteTheNewerListThePeerAnnounced() {
        FakeConnection c = connections.get(FAST);
        NodeId peer = nodes.get(FAST);
        peerLists.apply(c, Fixtures.versioned(peer, FAST, 7011, "e1", 2, "peer In", "peer Out"));
        DeviceAnnouncer announcer = new DeviceAnnouncer(pool,
                (host, port) -> Fixtures.versioned(nodes.get(host), host, port, "e1", 1), localList, peerLists,
                scheduler, tellers, 0);
        announcer.devicesChanged(List.of());
        await().atMost(WAIT).until(() -> handshakes(FAST) >= 3);
        assertEquals(List.of("peer In", "peer Out"), Fixtures.names(c.handshakes.get(c.handshakes.size() - 1)));
        assertEquals(List.of("peer In", "peer Out"), c.getRemoteDevices().stream().map(d -> d.name()).toList());
    }

    @Test
    void shouldCountEveryChangeInTheVersionOurHandshakesCarry() {
        DeviceAnnouncer announcer = announcer(10_000);
        assertEquals(0, localList.handshake().devicesVersion().orElseThrow().number());
        announcer.devicesChanged(List.of());
        announcer.devicesChanged(List.of());
        assertEquals(2, localList.handshake().devicesVersion().orElseThrow().number());
    }

    @Test
    void shouldNotTellAConnectingPeerWhenNothingChanged() {
        DeviceAnnouncer announcer = announcer(0);
        announcer.connected(connections.get(FAST));
        await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> calls(FAST) == 0);
    }
}
