package org.midimesh.itests.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Error answers over the wire (interface.md section 2): a JSON body {@code {"error", "status"}}, no stack traces, and a
 * failed request changes nothing. One node serves the class; each test checks that its own request changed nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(NodeLogsOnFailure.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HttpErrorsE2EIT {

    private Cluster cluster;
    private MidiMeshProcess node;

    @BeforeAll
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void startNode() {
        cluster = new Cluster(HttpErrorsE2EIT.class);
        node = cluster.start("e2e-solo");
    }

    @AfterAll
    void stopNode() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static void assertError(int status, MidiMeshProcess.Response r) {
        assertEquals(status, r.status(), r::toString);
        assertTrue(r.contentType().startsWith("application/json"), () -> "JSON content type: " + r);
        assertTrue(r.json().isObject(), () -> "JSON body: " + r);
        assertTrue(r.path("error").isTextual() && !r.path("error").asText().isBlank(), () -> "error text: " + r);
        assertEquals(status, r.path("status").asInt(-1), () -> "status field: " + r);
        assertFalse(r.raw().contains("\tat ") || r.raw().contains("Exception"), () -> "no stack trace: " + r);
    }

    @Test
    void malformedJsonRouteIs400AndCreatesNothing() {
        int before = node.getJson("/routing/routes").path("total").asInt(-1);
        MidiMeshProcess.Response r = node.postJson("/routing/routes", "{\"source\": {\"node_id\": \"local\", ");
        assertError(400, r);
        MidiMeshProcess.Response after = node.getJson("/routing/routes");
        assertEquals(200, after.status(), after::toString);
        assertEquals(before, after.path("total").asInt(-2), () -> "routes after a bad request: " + after);
    }

    @Test
    void unknownPathsAre404Json() {
        assertError(404, node.getJson("/no/such/path"));
        assertError(404, node.getJson("/midi/no-such-thing"));
    }

    @Test
    void invalidMidiAtIndex3Is400NamingItAndNothingIsPlayed() {
        long before = E2E.receivedTotal(node, 2);
        // index 3 has a data byte above 0x7f; the others are valid
        MidiMeshProcess.Response r = node.postJson("/midi/devices/2/send",
                E2E.sendBody(List.of("90 3c 64", "80 3c 00", "b0 07 64", "90 3c 80", "c0 05")));
        assertError(400, r);
        assertTrue(r.path("error").asText().contains("messages[3]"), () -> "the error names messages[3]: " + r);

        // A marker sent after the failed batch: once it is played, anything the bad batch played would show too.
        MidiMeshProcess.Response marker = node.postJson("/midi/devices/2/send", E2E.sendBody(List.of("c0 2a")));
        assertEquals(202, marker.status(), marker::toString);
        assertEquals(1, marker.path("accepted").asInt(-1), marker::toString);
        E2E.await("the marker is played on solo:2", Duration.ofSeconds(5))
                .untilAsserted(() -> assertTrue(E2E.receivedTotal(node, 2) >= before + 1, "marker played"));
        List<E2E.Received> played = E2E.receivedAfter(node, 2, before, 1000);
        assertEquals(List.of("c02a"), played.stream().map(m -> E2E.normHex(m.data())).toList(),
                "only the marker was played, nothing of the rejected batch");
    }
}
