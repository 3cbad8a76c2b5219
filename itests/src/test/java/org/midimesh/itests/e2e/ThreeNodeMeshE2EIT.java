package org.midimesh.itests.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** A, B (--peer A), C (--peer A --peer B): a full mesh with one logical connection per pair. */
@ExtendWith(NodeLogsOnFailure.class)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ThreeNodeMeshE2EIT {

    private Cluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void everyNodeSeesTheOtherTwoConnectedOnceEach() {
        cluster = new Cluster(ThreeNodeMeshE2EIT.class);
        MidiMeshProcess a = cluster.start("e2e-a");
        MidiMeshProcess b = cluster.start("e2e-b", "--peer", a.peerAddress());
        MidiMeshProcess c = cluster.start("e2e-c", "--peer", a.peerAddress(), "--peer", b.peerAddress());

        E2E.await("full mesh of a, b, c", Duration.ofSeconds(15)).untilAsserted(() -> assertFullMesh(a, b, c));
        // One logical connection per pair, and it stays so: no duplicate entry appears once all are connected.
        E2E.await("full mesh of a, b, c stays", Duration.ofSeconds(5)).during(Duration.ofSeconds(1))
                .untilAsserted(() -> assertFullMesh(a, b, c));
    }

    private static void assertFullMesh(MidiMeshProcess a, MidiMeshProcess b, MidiMeshProcess c) {
        E2E.assertConnectedExactly(a, b, c);
        E2E.assertConnectedExactly(b, a, c);
        E2E.assertConnectedExactly(c, a, b);
        for (MidiMeshProcess n : new MidiMeshProcess[] {a, b, c}) {
            MidiMeshProcess.Response r = n.getJson("/network/mesh");
            assertEquals(2, r.path("connected_nodes").asInt(-1), () -> "connected_nodes of " + n + ": " + r);
            assertEquals(n.uuid(), E2E.lower(r.path("node").path("uuid")), () -> "node of " + n + ": " + r);
        }
    }
}
