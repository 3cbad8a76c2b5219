package org.midimesh.mesh.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.midimesh.mesh.internal.Fixtures.LOCAL;
import static org.midimesh.mesh.internal.Fixtures.OTHER;
import static org.midimesh.mesh.internal.Fixtures.PEER;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.Handshaker;
import org.midimesh.api.mesh.Mesh.PeerSource;
import org.midimesh.api.test.contract.InMemoryConnectionPool;

/** Dialling with probes, adopting them, and redialling with backoff; delays are recorded, not waited out. */
@Timeout(10)
class DiallerTest {

    static final Duration WAIT = Duration.ofSeconds(5);

    final PeerDirectory directory = new PeerDirectory();
    final InMemoryConnectionPool pool = new InMemoryConnectionPool();
    final FakeStrategyControl strategies = new FakeStrategyControl();
    final RecordingExecutor executor = new RecordingExecutor();
    final MeshScheduler scheduler = new MeshScheduler(executor);
    final PeerDeviceLists peerLists = new PeerDeviceLists();
    /** What the redial handshakes answer; by default the peer at the address it was dialled at. */
    volatile Handshaker answers = (host, port) -> Fixtures.handshake(PEER, host, port);
    /** The state of the redialled connection at each redial handshake. */
    final List<ConnectionState> statesWhileRedialling = new CopyOnWriteArrayList<>();
    final AtomicInteger redials = new AtomicInteger();
    volatile FakeConnection redialled;
    /** The connections the dialler reported as entering CONNECTED (for the device announcer). */
    final List<NetworkConnection> connectedOnes = new CopyOnWriteArrayList<>();
    final Dialler dialler = new Dialler(directory, pool,
            (host, port) -> strategies.open(Fixtures.context(host, port)), (host, port) -> {
                redials.incrementAndGet();
                if (redialled != null) {
                    statesWhileRedialling.add(redialled.getState());
                }
                return answers.handshake(host, port);
            }, scheduler, new Backoff(500, 4000), LOCAL, connectedOnes::add, peerLists);

    @AfterEach
    void tearDown() throws InterruptedException {
        scheduler.close();
        executor.shutdownNow();
        assertTrue(executor.awaitTermination(5, TimeUnit.SECONDS));
        assertFalse(strategies.anyStrategyAsked(), "the dialler asked which strategy runs a connection");
    }

    /** Waits until the pool has run everything it was given (state changes are handled there). */
    void awaitIdle() {
        await().atMost(WAIT).until(() -> executor.getCompletedTaskCount() == executor.getTaskCount());
    }

    /** A known peer's connection in the pool, CONNECTED, opened through the dialler (so it listens). */
    FakeConnection connectedPeer() {
        FakeConnection c = (FakeConnection) dialler.open("127.0.0.9", 7011);
        c.handshakeCompleted(Fixtures.handshake(PEER, "127.0.0.9", 7011));
        assertTrue(pool.add(PEER, c));
        return c;
    }

    @Test
    void shouldOpenThroughTheStrategiesAndListenToWhatItOpens() {
        FakeConnection c = (FakeConnection) dialler.open("127.0.0.1", 7011);
        assertEquals(List.of(c), strategies.opened);
        assertEquals(1, c.listeners.size());
        dialler.discard(c);
        assertTrue(c.listeners.isEmpty());
        assertTrue(c.closed);
    }

    @Test
    void shouldDialAnAddressWithOneProbeAndConnectItOnce() {
        String key = directory.add("127.0.0.1", 7011, PeerSource.STATIC);
        dialler.dial(key);
        dialler.dial(key);
        assertEquals(1, strategies.opened.size());
        FakeConnection probe = strategies.opened.get(0);
        assertEquals("127.0.0.1", probe.context.host());
        assertEquals(ConnectionState.CONNECTING, probe.getState());
        assertEquals(1, probe.connects.get(), "a connecting probe is not told to connect again");
        assertSame(probe, directory.target(key).orElseThrow().probe());
    }

    @Test
    void shouldNotDialAForgottenAddress() {
        dialler.dial(PeerDirectory.key("127.0.0.1", 7011));
        assertTrue(strategies.opened.isEmpty());
    }

    @Test
    void shouldDialTheNodesPooledConnectionOnceTheAddressNamesIt() {
        FakeConnection c = (FakeConnection) strategies.open(Fixtures.context("127.0.0.9", 7011)); // nobody listens
        c.handshakeCompleted(Fixtures.handshake(PEER, "127.0.0.9", 7011));
        c.disconnect();
        pool.add(PEER, c);
        String key = directory.add("127.0.0.9", 7011, PeerSource.STATIC);
        directory.inbound(PEER, "127.0.0.9", 7011);
        dialler.dial(key);
        assertEquals(1, strategies.opened.size(), "no probe for an address whose node has a connection");
        assertEquals(1, c.connects.get());
    }

    @Test
    void shouldAdoptAProbeWhoseHandshakeNamesTheNode() {
        String key = directory.add("127.0.0.1", 7011, PeerSource.API);
        dialler.dial(key);
        FakeConnection probe = strategies.opened.get(0);
        probe.handshakeCompleted(Fixtures.handshake(PEER, "127.0.0.1", 7011));
        await().atMost(WAIT).until(() -> pool.get(PEER).isPresent());
        assertSame(probe, pool.get(PEER).orElseThrow());
        PeerDirectory.Target t = directory.target(key).orElseThrow();
        assertEquals(PEER, t.nodeId());
        assertNull(t.probe());
        await().atMost(WAIT).until(() -> connectedOnes.contains(probe)); // the announcer hears of it
    }

    @Test
    void shouldHandTheHandshakeToTheNodesConnectionAndCloseTheProbe() {
        FakeConnection existing = connectedPeer();
        String key = directory.add("127.0.0.1", 7011, PeerSource.API);
        dialler.dial(key);
        FakeConnection probe = strategies.opened.get(1);
        Handshake answer = Fixtures.handshake(PEER, "127.0.0.1", 7011);
        probe.handshakeCompleted(answer);
        await().atMost(WAIT).until(() -> probe.closed);
        assertSame(existing, pool.get(PEER).orElseThrow());
        assertEquals(answer, existing.handshakes.get(1), "the probe's handshake refreshed the node's connection");
        assertTrue(probe.listeners.isEmpty());
        assertEquals(Optional.of(PEER), directory.peers().get(0).nodeId());
        await().atMost(WAIT).until(() -> connectedOnes.contains(existing));
        assertFalse(connectedOnes.contains(probe), "the announcer was told about the discarded probe");
    }

    /**
     * Issue 7, both nodes dialling at once: the peer's own handshake brought its new list to the pooled connection
     * while our probe's reply, older, was on its way; handing the probe over keeps the newer list.
     */
    @Test
    void shouldNotLetAProbesOlderReplyOverwriteTheNewerListThePeerSent() {
        FakeConnection existing = (FakeConnection) dialler.open("127.0.0.9", 7011);
        assertTrue(pool.add(PEER, existing));
        String key = directory.add("127.0.0.1", 7011, PeerSource.STATIC);
        dialler.dial(key);
        FakeConnection probe = strategies.opened.get(1);
        // The probe's reply reaches the strategy's handshaker: built before the peer's devices changed, the newest yet.
        Handshake reply = peerLists.merge(Fixtures.versioned(PEER, "127.0.0.1", 7011, "e1", 0));
        // Meanwhile the peer's own handshake brings its new list to the pooled connection.
        peerLists.apply(existing, Fixtures.versioned(PEER, "127.0.0.9", 7011, "e1", 1, "peer In", "peer Out"));
        probe.handshakeCompleted(reply); // then the strategy applies the reply: the probe connects and is handed over
        await().atMost(WAIT).until(() -> probe.closed);
        assertSame(existing, pool.get(PEER).orElseThrow());
        assertEquals(List.of("peer In", "peer Out"), Fixtures.names(existing.handshakes.get(
                existing.handshakes.size() - 1)), "the newer list stays");
    }

    @Test
    void shouldNotLetARedialsOlderReplyOverwriteANewerList() {
        FakeConnection c = connectedPeer();
        peerLists.apply(c, Fixtures.versioned(PEER, "127.0.0.9", 7011, "e1", 4, "peer In", "peer Out"));
        c.fail();
        answers = (host, port) -> Fixtures.versioned(PEER, host, port, "e1", 3);
        dialler.redial(PEER, c, 1);
        assertEquals(ConnectionState.CONNECTED, c.getState());
        assertEquals(List.of("peer In", "peer Out"), c.getRemoteDevices().stream().map(d -> d.name()).toList());
    }

    @Test
    void shouldDropAProbeThatReachedThisNodeItself() {
        String key = directory.add("127.0.0.1", 7474, PeerSource.STATIC);
        dialler.dial(key);
        FakeConnection probe = strategies.opened.get(0);
        probe.handshakeCompleted(Fixtures.handshake(LOCAL, "127.0.0.1", 7474));
        await().atMost(WAIT).until(() -> probe.closed);
        assertEquals(0, pool.size());
    }

    @Test
    void shouldRedialAFailedProbeWithBackoff() {
        String key = directory.add("127.0.0.1", 7011, PeerSource.STATIC);
        dialler.dial(key);
        FakeConnection probe = strategies.opened.get(0);
        for (int attempt = 2; attempt <= 6; attempt++) {
            probe.fail(); // the strategy's handshake failed; the dialler dials the same probe again
            int expected = attempt;
            await().atMost(WAIT).until(() -> probe.connects.get() == expected
                    && probe.getState() == ConnectionState.CONNECTING);
        }
        assertEquals(List.of(500L, 1000L, 2000L, 4000L, 4000L), executor.delays);
        assertEquals(1, strategies.opened.size(), "one probe per address, however often it fails");
    }

    /** Nodes started together: the other answers 503 until its mesh is up, then it is dialled again soon. */
    @Test
    void shouldDialAStartingPeerAgainAfterTheFirstDelay() {
        String key = directory.add("127.0.0.1", 7011, PeerSource.STATIC);
        dialler.dial(key);
        FakeConnection probe = strategies.opened.get(0);
        probe.fail(); // connection refused: not even listening yet
        await().atMost(WAIT).until(() -> probe.connects.get() == 2);
        probe.fail();
        await().atMost(WAIT).until(() -> probe.connects.get() == 3);
        Handshaker ofStrategies = Dialler.forStrategies((host, port) -> {
            throw new PeerNotReadyException("peer answered 503: the /network API is not ready");
        }, peerLists, directory);
        assertThrows(PeerNotReadyException.class, () -> ofStrategies.handshake("127.0.0.1", 7011));
        probe.fail(); // the strategy saw the 503 as a failed handshake
        await().atMost(WAIT).until(() -> probe.connects.get() == 4);
        assertEquals(List.of(500L, 1000L, 500L), executor.delays);
    }

    @Test
    void shouldRedialAKnownPeerThatIsStartingAgainAfterTheFirstDelay() {
        redialled = connectedPeer();
        AtomicInteger calls = new AtomicInteger();
        answers = (host, port) -> {
            int n = calls.incrementAndGet();
            if (n <= 2) {
                throw new IOException("connection refused");
            }
            if (n <= 4) {
                throw new PeerNotReadyException("peer answered 503: the /network API is not ready");
            }
            return Fixtures.handshake(PEER, host, port);
        };
        redialled.fail();
        await().atMost(WAIT).until(() -> redialled.handshakes.size() == 2);
        assertEquals(List.of(500L, 1000L, 2000L, 500L, 500L), executor.delays);
    }

    @Test
    void shouldHandTheStrategiesTheNewestListKnownOfThePeer() throws IOException {
        peerLists.merge(Fixtures.versioned(PEER, "127.0.0.1", 7011, "e1", 2, "peer In", "peer Out"));
        Handshaker ofStrategies = Dialler.forStrategies(
                (host, port) -> Fixtures.versioned(PEER, host, port, "e1", 1), peerLists, directory);
        assertEquals(List.of("peer In", "peer Out"), Fixtures.names(ofStrategies.handshake("127.0.0.1", 7011)));
    }

    @Test
    void shouldRedialAFailedPeerKeepingItsStateUntilItAnswers() {
        redialled = connectedPeer();
        AtomicInteger calls = new AtomicInteger();
        answers = (host, port) -> {
            if (calls.incrementAndGet() <= 2) {
                throw new IOException("connection refused");
            }
            return Fixtures.handshake(PEER, host, port);
        };
        redialled.fail();
        await().atMost(WAIT).until(() -> redialled.handshakes.size() == 2);
        awaitIdle(); // the dialler has seen it connected, so its failures start again from zero
        assertEquals(ConnectionState.CONNECTED, redialled.getState());
        assertEquals(List.of(ConnectionState.FAILED, ConnectionState.FAILED, ConnectionState.FAILED),
                statesWhileRedialling, "the peer shows FAILED while the mesh redials it");
        assertEquals(List.of(500L, 1000L, 2000L), executor.delays);
        assertEquals(0, redialled.connects.get(), "a redial is one handshake of the mesh's own");

        redialled.goodbyeReceived(); // the peer stopped: it is redialled too, and the backoff starts again
        await().atMost(WAIT).until(() -> redialled.handshakes.size() == 3);
        assertEquals(List.of(500L, 1000L, 2000L, 500L), executor.delays);
    }

    @Test
    void shouldNotRedialAnAddressThatIsNowAnotherNode() {
        redialled = connectedPeer();
        answers = (host, port) -> Fixtures.handshake(OTHER, host, port);
        redialled.fail();
        await().atMost(WAIT).until(() -> redials.get() == 1);
        awaitIdle();
        assertEquals(ConnectionState.FAILED, redialled.getState());
        assertEquals(1, redialled.handshakes.size());
        assertEquals(List.of(500L), executor.delays, "no further attempt");
    }

    @Test
    void shouldNeverRedialWhileClosing() {
        FakeConnection c = connectedPeer();
        String key = directory.add("127.0.0.1", 7011, PeerSource.STATIC);
        dialler.dial(key);
        FakeConnection probe = strategies.opened.get(1);
        scheduler.close();
        dialler.onStateChanged(c, ConnectionState.CONNECTED, ConnectionState.FAILED);
        dialler.onStateChanged(probe, ConnectionState.CONNECTING, ConnectionState.FAILED);
        dialler.redial(PEER, c, 1);
        dialler.dial(directory.add("127.0.0.2", 7021, PeerSource.API));
        assertEquals(List.of(), executor.delays);
        assertEquals(0, redials.get());
        assertEquals(2, strategies.opened.size());
    }

    @Test
    void shouldForgetANodeWithItsAddressesProbesAndConnection() {
        FakeConnection c = connectedPeer();
        directory.inbound(PEER, "127.0.0.9", 7011);
        assertTrue(dialler.forget(PEER));
        assertTrue(c.closed);
        assertTrue(c.listeners.isEmpty(), "a forgotten connection is not redialled");
        assertEquals(0, pool.size());
        assertTrue(directory.peers().isEmpty());
        assertFalse(dialler.forget(PEER));
    }

    @Test
    void shouldCloseEveryProbeWhenStopping() {
        dialler.dial(directory.add("127.0.0.1", 7011, PeerSource.STATIC));
        dialler.dial(directory.add("127.0.0.2", 7021, PeerSource.STATIC));
        dialler.closeProbes();
        assertTrue(strategies.opened.stream().allMatch(p -> p.closed));
    }
}
