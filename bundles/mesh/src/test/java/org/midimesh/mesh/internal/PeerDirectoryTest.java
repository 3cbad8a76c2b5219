package org.midimesh.mesh.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.midimesh.mesh.internal.Fixtures.OTHER;
import static org.midimesh.mesh.internal.Fixtures.PEER;

import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.mesh.Mesh.Peer;
import org.midimesh.api.mesh.Mesh.PeerSource;

@Timeout(10)
class PeerDirectoryTest {

    final PeerDirectory directory = new PeerDirectory();

    static FakeConnection probe(String host) {
        return new FakeConnection(Fixtures.context(host, 7011));
    }

    @Test
    void shouldKeepEachAddressOnceWithItsFirstSourceInTheOrderTheyCame() {
        String a = directory.add("127.0.0.1", 7011, PeerSource.STATIC);
        directory.add("127.0.0.2", 7011, PeerSource.API);
        assertEquals(a, directory.add("127.0.0.1", 7011, PeerSource.API));
        assertEquals("127.0.0.1:7011", a);
        assertEquals(List.of(new Peer("127.0.0.1", 7011, PeerSource.STATIC, Optional.empty()),
                new Peer("127.0.0.2", 7011, PeerSource.API, Optional.empty())), directory.peers());
    }

    @Test
    void shouldKeepTheFirstProbeOfAnAddress() {
        String key = directory.add("127.0.0.1", 7011, PeerSource.STATIC);
        FakeConnection first = probe("127.0.0.1");
        assertSame(first, directory.offerProbe(key, first).orElseThrow());
        assertSame(first, directory.offerProbe(key, probe("127.0.0.1")).orElseThrow());
        assertEquals(Optional.empty(), directory.offerProbe("127.0.0.5:7011", probe("127.0.0.5")));
        PeerDirectory.Target t = directory.target(key).orElseThrow();
        assertEquals(new PeerDirectory.Target("127.0.0.1", 7011, first, null), t);
        assertEquals(Optional.empty(), directory.target("127.0.0.5:7011"));
    }

    @Test
    void shouldCountProbeFailuresUntilTheProbeIsAnswered() {
        String key = directory.add("127.0.0.1", 7011, PeerSource.STATIC);
        FakeConnection p = probe("127.0.0.1");
        directory.offerProbe(key, p);
        assertEquals(new PeerDirectory.ProbeFailure(key, 0), directory.probeFailed(p).orElseThrow());
        assertEquals(new PeerDirectory.ProbeFailure(key, 1), directory.probeFailed(p).orElseThrow());
        assertTrue(directory.probeAnswered(p, PEER));
        assertFalse(directory.probeAnswered(p, PEER), "it probes nothing any more");
        assertEquals(Optional.empty(), directory.probeFailed(p));
        PeerDirectory.Target t = directory.target(key).orElseThrow();
        assertNull(t.probe());
        assertEquals(PEER, t.nodeId());
        FakeConnection next = probe("127.0.0.1");
        directory.offerProbe(key, next);
        assertEquals(0, directory.probeFailed(next).orElseThrow().failuresBefore(), "failures started again");
    }

    @Test
    void shouldCountProbeFailuresFromTheFirstAgainAfterANotReadyAnswer() {
        String key = directory.add("127.0.0.1", 7011, PeerSource.STATIC);
        FakeConnection p = probe("127.0.0.1");
        directory.offerProbe(key, p);
        directory.probeFailed(p);
        directory.probeFailed(p);
        directory.answeredNotReady(key);
        assertEquals(new PeerDirectory.ProbeFailure(key, 0), directory.probeFailed(p).orElseThrow(), "it is starting");
        assertEquals(new PeerDirectory.ProbeFailure(key, 1), directory.probeFailed(p).orElseThrow());
        directory.answeredNotReady("127.0.0.5:7011"); // unknown: nothing to note
        assertEquals(Optional.empty(), directory.target("127.0.0.5:7011"));
    }

    @Test
    void shouldCountNodeFailuresInARow() {
        assertEquals(1, directory.nodeFailed(PEER));
        assertEquals(2, directory.nodeFailed(PEER));
        assertEquals(1, directory.nodeFailed(OTHER));
        directory.nodeConnected(PEER);
        assertEquals(1, directory.nodeFailed(PEER));
    }

    @Test
    void shouldRememberAnInboundPeerOnlyWhenNoAddressNamesItYet() {
        directory.inbound(PEER, "127.0.0.9", 7011);
        directory.inbound(PEER, "10.0.0.9", 7011);
        assertEquals(List.of(new Peer("127.0.0.9", 7011, PeerSource.INBOUND, Optional.of(PEER))), directory.peers());
        directory.add("127.0.0.2", 7021, PeerSource.STATIC);
        directory.inbound(OTHER, "127.0.0.2", 7021);
        assertEquals(new Peer("127.0.0.2", 7021, PeerSource.STATIC, Optional.of(OTHER)), directory.peers().get(1),
                "an address already known keeps its source and learns its node");
    }

    @Test
    void shouldForgetEveryAddressOfANodeWithItsProbesAndFailures() {
        directory.inbound(PEER, "127.0.0.9", 7011);
        String key = directory.add("127.0.0.1", 7011, PeerSource.STATIC);
        FakeConnection p = probe("127.0.0.1");
        directory.offerProbe(key, p);
        directory.probeAnswered(p, PEER);
        FakeConnection again = probe("127.0.0.1");
        directory.offerProbe(key, again); // dialled again, for instance after the connection was lost
        String other = directory.add("127.0.0.2", 7021, PeerSource.STATIC);
        directory.nodeFailed(PEER);
        directory.nodeFailed(PEER);

        PeerDirectory.Forgotten f = directory.forget(PEER);
        assertTrue(f.known());
        assertEquals(List.of("127.0.0.9:7011", key), f.keys());
        assertEquals(List.<NetworkConnection>of(again), f.probes());
        assertEquals(List.of(other), directory.peers().stream().map(x -> x.host() + ":" + x.httpPort()).toList());
        assertEquals(1, directory.nodeFailed(PEER), "its failures went with it");
        assertFalse(directory.forget(OTHER).known());
    }

    @Test
    void shouldHandOverEveryProbeWhenStopping() {
        String a = directory.add("127.0.0.1", 7011, PeerSource.STATIC);
        String b = directory.add("127.0.0.2", 7011, PeerSource.STATIC);
        FakeConnection pa = probe("127.0.0.1");
        FakeConnection pb = probe("127.0.0.2");
        directory.offerProbe(a, pa);
        directory.offerProbe(b, pb);
        assertEquals(List.<NetworkConnection>of(pa, pb), directory.takeProbes());
        assertEquals(List.of(), directory.takeProbes());
        assertEquals(2, directory.peers().size(), "the addresses stay known");
    }
}
