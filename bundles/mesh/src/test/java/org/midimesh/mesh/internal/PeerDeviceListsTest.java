package org.midimesh.mesh.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.midimesh.mesh.internal.Fixtures.OTHER;
import static org.midimesh.mesh.internal.Fixtures.PEER;
import static org.midimesh.mesh.internal.Fixtures.names;
import static org.midimesh.mesh.internal.Fixtures.versioned;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.connection.Handshake;

/** Issue 7: a peer's older device list never overwrites a newer one, whatever order its handshakes arrive in. */
@Timeout(10)
class PeerDeviceListsTest {

    final PeerDeviceLists lists = new PeerDeviceLists();

    @Test
    void shouldKeepTheNewestListWhenAnOlderOneArrivesLater() {
        Handshake newer = versioned(PEER, "127.0.0.1", 7011, "e1", 2, "In", "Out");
        Handshake older = versioned(PEER, "127.0.0.2", 7011, "e1", 1);
        assertSame(newer, lists.merge(newer));
        Handshake applied = lists.merge(older);
        assertEquals(List.of("In", "Out"), names(applied), "the newer list stays");
        assertEquals("127.0.0.2", applied.node().address(), "with the node as the later handshake describes it");
        assertEquals(newer.devicesVersion(), applied.devicesVersion());
    }

    @Test
    void shouldTakeTheSameVersionAgainAndEveryNewerOne() {
        lists.merge(versioned(PEER, "h", 7011, "e1", 2, "A"));
        Handshake again = versioned(PEER, "h", 7011, "e1", 2, "A");
        assertSame(again, lists.merge(again));
        Handshake next = versioned(PEER, "h", 7011, "e1", 3);
        assertSame(next, lists.merge(next));
    }

    @Test
    void shouldTakeAnyListOfAPeerThatStartedAgain() {
        lists.merge(versioned(PEER, "h", 7011, "before-restart", 9, "A", "B"));
        Handshake restarted = versioned(PEER, "h", 7011, "after-restart", 0, "A");
        assertSame(restarted, lists.merge(restarted), "another epoch: the peer's count started again");
    }

    @Test
    void shouldTakeEveryListOfAPeerWithoutVersionsAsTheNewest() {
        lists.merge(versioned(PEER, "h", 7011, "e1", 5, "A"));
        Handshake plain = Fixtures.handshake(PEER, "h", 7011);
        assertSame(plain, lists.merge(plain));
        Handshake versionedAgain = versioned(PEER, "h", 7011, "e1", 1);
        assertSame(versionedAgain, lists.merge(versionedAgain), "what was known before went with the plain list");
    }

    @Test
    void shouldKeepEachPeersListApart() {
        lists.merge(versioned(PEER, "h", 7011, "e1", 5, "A"));
        Handshake other = versioned(OTHER, "h", 7021, "e1", 1, "X");
        assertSame(other, lists.merge(other));
    }

    @Test
    void shouldApplyTheNewestListKnownInsteadOfAnOlderOne() {
        FakeConnection c = new FakeConnection(Fixtures.context("h", 7011));
        lists.apply(c, versioned(PEER, "h", 7011, "e1", 2, "In", "Out"));
        lists.apply(c, versioned(PEER, "h", 7011, "e1", 1));
        assertEquals(List.of("In", "Out"), c.getRemoteDevices().stream().map(d -> d.name()).toList());
    }

    /**
     * Two threads apply a peer's handshakes: the older one's thread took its list in first but applies it last. It
     * applies the newer one after it, so the connection ends with the newer list.
     */
    @Test
    void shouldEndWithTheNewestListWhenAnOlderOneIsAppliedLast() {
        Handshake older = versioned(PEER, "h", 7011, "e1", 1, "In");
        Handshake newer = versioned(PEER, "h", 7011, "e1", 2, "In", "Out");
        FakeConnection c = new FakeConnection(Fixtures.context("h", 7011));
        // The other thread, between the older one's merge and its apply.
        c.beforeNextHandshake = () -> lists.apply(c, newer);
        lists.apply(c, older);
        assertEquals(List.of(List.of("In", "Out"), List.of("In"), List.of("In", "Out")),
                c.handshakes.stream().map(Fixtures::names).toList());
        assertEquals(List.of("In", "Out"), names(c.handshakes.get(c.handshakes.size() - 1)));
    }

    @Test
    void shouldHandAProbesHandshakeOverWithTheNewestListKnown() {
        FakeConnection pooled = new FakeConnection(Fixtures.context("h", 7011));
        lists.apply(pooled, versioned(PEER, "h", 7011, "e1", 3, "In", "Out"));
        Handshake probes = new Handshake(versioned(PEER, "10.0.0.1", 7011, "e1", 0).node(), List.of());
        lists.applyNewest(pooled, probes);
        Handshake last = pooled.handshakes.get(pooled.handshakes.size() - 1);
        assertEquals(List.of("In", "Out"), names(last));
        assertEquals("10.0.0.1", last.node().address());
    }

    @Test
    void shouldHandAProbesHandshakeOverAsItIsWhenNoListIsKnown() {
        FakeConnection pooled = new FakeConnection(Fixtures.context("h", 7011));
        Handshake probes = Fixtures.handshake(PEER, "10.0.0.1", 7011);
        lists.applyNewest(pooled, probes);
        assertEquals(List.of(probes), pooled.handshakes);
    }

    @Test
    void shouldForgetAPeer() {
        lists.merge(versioned(PEER, "h", 7011, "e1", 5, "A"));
        lists.forget(PEER);
        Handshake older = versioned(PEER, "h", 7011, "e1", 1);
        assertSame(older, lists.merge(older));
    }
}
