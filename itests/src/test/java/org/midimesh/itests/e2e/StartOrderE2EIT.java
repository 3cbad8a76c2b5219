package org.midimesh.itests.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Issue 7: device lists converge whatever the order in which nodes and their parts start. Two nodes are started at
 * the same instant, 20 times over, while the first one's {@code /network/mesh} is polled (which activates its mesh on
 * an HTTP thread while the rest of the node starts): half the rounds each knows the other ({@code --peer}), the other
 * half only one knows the other, each way in turn. Every time, within 2 s of both ready lines, each lists the other's
 * devices (its two defaults and what its drivers found, such as the JDK's synthesizer, which binds later) and shows it
 * connected, once, with that many devices, and that holds for a while. The data dirs are reused (the
 * same node ids each round).
 */
@ExtendWith(NodeLogsOnFailure.class)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class StartOrderE2EIT {

    static final int ROUNDS = 20;
    /** interface.md: device lists seen by a peer follow changes within 2 s. */
    static final Duration CONVERGE = Duration.ofSeconds(2);
    /** How long each round checks that the lists stay converged. */
    static final Duration HOLD = Duration.ofMillis(500);

    /** Who is started with {@code --peer} the other. */
    enum Knows {
        EACH_OTHER, A_KNOWS_B, B_KNOWS_A
    }

    private Cluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void eachNodeKnowsTheOthersDevicesWithin2sOfBothBeingReadyWhateverTheStartOrder() {
        cluster = new Cluster(StartOrderE2EIT.class);
        List<String> rounds = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            Knows knows = round % 2 == 0 ? Knows.EACH_OTHER : round % 4 == 1 ? Knows.A_KNOWS_B : Knows.B_KNOWS_A;
            rounds.add(round(round, knows));
        }
        System.out.println("StartOrderE2EIT: " + String.join("; ", rounds));
    }

    /** One round: starts both, checks that they converge in time, stops both. Returns what it took. */
    private String round(int round, Knows knows) {
        int httpA = freePort();
        int httpB = freePort();
        String[] argsA = knows == Knows.B_KNOWS_A ? new String[0] : new String[] {"--peer", "127.0.0.1:" + httpB};
        String[] argsB = knows == Knows.A_KNOWS_B ? new String[0] : new String[] {"--peer", "127.0.0.1:" + httpA};
        MidiMeshProcess a = cluster.launch("so-a", httpA, argsA);
        MidiMeshProcess b = cluster.launch("so-b", httpB, argsB);
        String what = "round " + round + " (" + knows + ")";
        try {
            // The first node's mesh is asked for while the nodes start, as the reporter did.
            E2E.await(what + ": both ready", MidiMeshProcess.READY_TIMEOUT, E2E.FAST_POLL)
                    .failFast(what + ": a node exited before it was ready", () -> !a.isAlive() || !b.isAlive())
                    .until(() -> {
                        pollQuietly(a);
                        return a.isReady() && b.isReady();
                    });
            long bothReady = Math.max(a.readyAtNanos(), b.readyAtNanos());
            Duration left = CONVERGE.minusNanos(System.nanoTime() - bothReady);
            if (left.toMillis() < 1) {
                converged(a, b); // the ready lines came in longer ago than that: it must hold already
            } else {
                E2E.await(what + ": each lists the other's devices within " + CONVERGE.toMillis()
                        + " ms of both ready lines", left, E2E.FAST_POLL).untilAsserted(() -> converged(a, b));
            }
            long took = (System.nanoTime() - bothReady) / 1_000_000;
            // "For good" was the issue: a late, older device list must not undo it.
            E2E.await(what + ": and it stays so", HOLD.plusSeconds(5), E2E.FAST_POLL).during(HOLD)
                    .untilAsserted(() -> converged(a, b));
            return round + ":" + knows + " " + took + " ms";
        } finally {
            a.close();
            b.close();
        }
    }

    private static void converged(MidiMeshProcess a, MidiMeshProcess b) {
        assertConnectedWithDevices(a, b);
        assertConnectedWithDevices(b, a);
        E2E.assertListsLocalAndRemote(a, b);
        E2E.assertListsLocalAndRemote(b, a);
    }

    /** {@code observer} shows {@code peer} once, connected, with as many devices as the peer lists as its own. */
    private static void assertConnectedWithDevices(MidiMeshProcess observer, MidiMeshProcess peer) {
        E2E.assertConnectedExactly(observer, peer);
        JsonNode entry = E2E.meshEntries(observer, peer.uuid()).get(0);
        int own = E2E.ownDevices(peer).size();
        assertEquals(own, entry.path("devices").asInt(-1), () -> observer + " shows " + peer + ": " + entry);
    }

    /** GET /network/mesh on a node that may not listen yet; whatever happens is ignored. */
    private static void pollQuietly(MidiMeshProcess node) {
        try {
            node.getJson("/network/mesh");
        } catch (RuntimeException e) {
            // not listening yet, or not answering yet: that is what is being exercised
        }
    }

    /** A TCP port free on loopback now (the node binds it a moment later; nothing else here takes ports). */
    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertTrue(s.getLocalPort() > 0);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
