package org.midimesh.http.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.midimesh.api.NodeId;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.ConnectionMetrics.LatencySummary;
import org.midimesh.api.connection.ConnectionState;

import com.fasterxml.jackson.databind.JsonNode;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DebugServletTest {

    static final NodeId GAMMA_ID = NodeId.parse("33333333-3333-3333-3333-333333333333");

    static final Set<String> STRATEGY_FIELDS = Set.of("total_queries", "mutex_contentions", "contention_percent",
            "callbacks_dispatched", "commands_processed", "queue_depth", "query_latency_ns", "errors",
            "dropped_messages", "stalls", "connections");

    private Fakes.FakeMesh mesh;
    private Fakes.Control control;
    private DebugServlet servlet;

    /**
     * The strategy manager's totals: mutex (1000 queries, 100 contentions, 5 stalls) and seda (3000 queries, none, 1
     * stall); connections: beta (mutex, connected), one pending (mutex, no peer id yet), gamma (seda, connected).
     */
    @BeforeEach
    void setUp() {
        mesh = fixture();
        control = new Fakes.Control();
        strategyTotals(control);
        servlet = new DebugServlet(mesh);
        servlet.strategyControl = control;
    }

    /** The per-strategy totals the debug and metrics tests expect. */
    static void strategyTotals(Fakes.Control control) {
        control.metrics.put("mutex", new ConnectionMetrics("mutex", 1000, 100, 40, 0, 0,
                new LatencySummary(500, 120, 900, 4000, 8000), 3, 2, 5));
        control.metrics.put("seda", new ConnectionMetrics("seda", 3000, 0, 60, 75, 5,
                new LatencySummary(700, 80, 300, 1000, 2500), 1, 4, 1));
    }

    /** The standard mesh plus gamma on seda; beta and gamma carry their own metrics. */
    static Fakes.FakeMesh fixture() {
        Fakes.FakeMesh mesh = Fakes.FakeMesh.standard(new Fakes.Node());
        Fakes.Connection beta = (Fakes.Connection) mesh.connections.get(0);
        beta.metrics = Fakes.metrics("mutex", 7);
        Fakes.Connection gamma = new Fakes.Connection();
        gamma.remoteId = Optional.of(GAMMA_ID);
        gamma.state = ConnectionState.CONNECTED;
        gamma.strategy = "seda";
        gamma.metrics = new ConnectionMetrics("seda", 0, 0, 0, 0, 0, LatencySummary.EMPTY, 0, 0, 0);
        mesh.connections.add(gamma);
        return mesh;
    }

    @Test
    void shouldSumTheStrategiesAndListEach() throws Exception {
        FakeHttp.Result r = FakeHttp.get("/debug/metrics").call(servlet);
        assertEquals(200, r.status(), r::toString);
        assertTrue(r.header("Content-Type").startsWith("application/json"));
        JsonNode j = r.json();
        assertEquals(Set.of("total_queries", "mutex_contentions", "contention_percent", "callbacks_dispatched",
                "commands_processed", "queue_depth", "errors", "dropped_messages", "stalls", "connections",
                "per_strategy"), MidiServletTest.fields(j));
        assertEquals(4000, j.get("total_queries").asLong());
        assertEquals(100, j.get("mutex_contentions").asLong());
        assertEquals(2.5, j.get("contention_percent").asDouble(), "recomputed from the sums, not averaged");
        assertEquals(100, j.get("callbacks_dispatched").asLong());
        assertEquals(75, j.get("commands_processed").asLong());
        assertEquals(5, j.get("queue_depth").asLong());
        assertEquals(4, j.get("errors").asLong());
        assertEquals(6, j.get("dropped_messages").asLong());
        assertEquals(6, j.get("stalls").asLong());
        assertEquals(3, j.get("connections").asInt());

        JsonNode per = j.get("per_strategy");
        assertEquals(Set.of("mutex", "seda"), MidiServletTest.fields(per));
        JsonNode m = per.get("mutex");
        assertEquals(STRATEGY_FIELDS, MidiServletTest.fields(m));
        assertEquals(1000, m.get("total_queries").asLong());
        assertEquals(100, m.get("mutex_contentions").asLong());
        assertEquals(10.0, m.get("contention_percent").asDouble());
        assertEquals(40, m.get("callbacks_dispatched").asLong());
        assertEquals(0, m.get("commands_processed").asLong());
        assertEquals(0, m.get("queue_depth").asInt());
        assertEquals(3, m.get("errors").asLong());
        assertEquals(2, m.get("dropped_messages").asLong());
        assertEquals(5, m.get("stalls").asLong());
        assertEquals(2, m.get("connections").asInt(), "beta and the pending connection");
        JsonNode lat = m.get("query_latency_ns");
        assertEquals(Set.of("count", "p50", "p99", "p999", "max"), MidiServletTest.fields(lat));
        assertEquals(500, lat.get("count").asLong());
        assertEquals(120, lat.get("p50").asLong());
        assertEquals(900, lat.get("p99").asLong());
        assertEquals(4000, lat.get("p999").asLong());
        assertEquals(8000, lat.get("max").asLong());
        JsonNode s = per.get("seda");
        assertEquals(0.0, s.get("contention_percent").asDouble());
        assertEquals(75, s.get("commands_processed").asLong());
        assertEquals(5, s.get("queue_depth").asInt());
        assertEquals(1, s.get("connections").asInt());
        assertEquals(1, s.get("stalls").asLong());
        assertEquals(80, s.get("query_latency_ns").get("p50").asLong());
    }

    @Test
    void shouldAnswerZerosWithoutStrategiesOrConnections() throws Exception {
        control.metrics.clear();
        mesh.connections.clear();
        JsonNode j = FakeHttp.get("/debug/metrics").call(servlet).json();
        assertEquals(0, j.get("total_queries").asLong());
        assertEquals(0.0, j.get("contention_percent").asDouble());
        assertEquals(0, j.get("connections").asInt());
        assertTrue(j.get("per_strategy").isObject());
        assertEquals(0, j.get("per_strategy").size());
    }

    @Test
    void shouldLeavePerStrategyEmptyWithoutTheStrategyManager() throws Exception {
        servlet.strategyControl = null;
        FakeHttp.Result r = FakeHttp.get("/debug/metrics").call(servlet);
        assertEquals(200, r.status(), r::toString);
        JsonNode j = r.json();
        assertEquals("{}", j.get("per_strategy").toString());
        assertEquals(0, j.get("total_queries").asLong());
        assertEquals(0, j.get("stalls").asLong());
        assertEquals(3, j.get("connections").asInt(), "live connections are the mesh's, not the manager's");
    }

    @Test
    void shouldStillAnswerWhenTheStrategyManagerFails() throws Exception {
        control.failWith = new IllegalStateException("the strategy manager is stopping");
        FakeHttp.Result r = FakeHttp.get("/debug/metrics").call(servlet);
        assertEquals(200, r.status(), r::toString);
        assertEquals("{}", r.json().get("per_strategy").toString());
        assertEquals(3, r.json().get("connections").asInt());
    }

    @Test
    void shouldListAStrategyWithoutConnectionsAndCountConnectionsOfAnUnknownOne() throws Exception {
        control.metrics.put("pooled", Fakes.metrics("pooled", 2));
        Fakes.Connection parked = new Fakes.Connection();
        parked.strategy = "none";
        mesh.connections.add(parked);
        JsonNode j = FakeHttp.get("/debug/metrics").call(servlet).json();
        JsonNode per = j.get("per_strategy");
        assertEquals(Set.of("mutex", "seda", "pooled"), MidiServletTest.fields(per));
        assertEquals(20, per.get("pooled").get("total_queries").asLong());
        assertEquals(9, per.get("pooled").get("stalls").asLong());
        assertEquals(0, per.get("pooled").get("connections").asInt());
        assertEquals(4, j.get("connections").asInt(), "a connection waiting for any strategy counts in the total");
        assertEquals(15, j.get("stalls").asLong());
    }

    @Test
    void shouldShowOneConnectionsMetrics() throws Exception {
        FakeHttp.Result r = FakeHttp.get("/debug/connection/" + Fakes.PEER_ID + "/metrics").call(servlet);
        assertEquals(200, r.status(), r::toString);
        JsonNode j = r.json();
        assertEquals(Set.of("node_id", "strategy", "state", "total_queries", "mutex_contentions",
                "contention_percent", "callbacks_dispatched", "commands_processed", "queue_depth",
                "query_latency_ns", "errors", "dropped_messages", "stalls"), MidiServletTest.fields(j));
        assertEquals(Fakes.PEER_ID.toString(), j.get("node_id").asText());
        assertEquals("mutex", j.get("strategy").asText());
        assertEquals("connected", j.get("state").asText());
        // Fakes.metrics(.., 7)
        assertEquals(70, j.get("total_queries").asLong());
        assertEquals(7, j.get("mutex_contentions").asLong());
        assertEquals(10.0, j.get("contention_percent").asDouble());
        assertEquals(8, j.get("callbacks_dispatched").asLong());
        assertEquals(9, j.get("commands_processed").asLong());
        assertEquals(10, j.get("queue_depth").asInt());
        assertEquals(12, j.get("errors").asLong());
        assertEquals(13, j.get("dropped_messages").asLong());
        assertEquals(14, j.get("stalls").asLong());
        JsonNode lat = j.get("query_latency_ns");
        assertEquals(11, lat.get("count").asLong());
        assertEquals(700, lat.get("p50").asLong());
        assertEquals(1400, lat.get("p99").asLong());
        assertEquals(2100, lat.get("p999").asLong());
        assertEquals(2800, lat.get("max").asLong());

        j = FakeHttp.get("/debug/connection/" + GAMMA_ID.toString().replace("-", "") + "/metrics").call(servlet)
                .json();
        assertEquals(GAMMA_ID.toString(), j.get("node_id").asText(), "32 hex digits are accepted, dashed answered");
        assertEquals("seda", j.get("strategy").asText());
        assertEquals(0.0, j.get("contention_percent").asDouble());
    }

    @Test
    void shouldAnswer404ForAnUnknownPeerOrLocal() throws Exception {
        FakeHttp.Result r = FakeHttp.get("/debug/connection/44444444-4444-4444-4444-444444444444/metrics")
                .call(servlet);
        assertEquals(404, r.status(), r::toString);
        assertTrue(r.error().contains("no connection"), r::toString);
        r = FakeHttp.get("/debug/connection/" + Fakes.LOCAL_ID + "/metrics").call(servlet);
        assertEquals(404, r.status(), r::toString);
        for (String local : new String[] {"local", "LOCAL"}) {
            r = FakeHttp.get("/debug/connection/" + local + "/metrics").call(servlet);
            assertEquals(404, r.status(), r::toString);
            assertTrue(r.error().contains("not a connection"), r::toString);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"not-a-uuid", "12345", "22222222-2222-2222-2222-22222222222g",
        "222222222222222222222222222222222"})
    void shouldAnswer400ForAMalformedUuid(String uuid) throws Exception {
        FakeHttp.Result r = FakeHttp.get("/debug/connection/" + uuid + "/metrics").call(servlet);
        assertEquals(400, r.status(), r::toString);
        assertTrue(r.error().startsWith("uuid must be a node id"), r::toString);
    }

    @Test
    void shouldAnswer404And405AndHead() throws Exception {
        assertEquals(404, FakeHttp.get("/debug/nothing").call(servlet).status());
        assertEquals(404, FakeHttp.get("/debug/connection/" + Fakes.PEER_ID).call(servlet).status());
        assertEquals(404, FakeHttp.get("/debug/connection//metrics").call(servlet).status());
        FakeHttp.Result r = FakeHttp.post("/debug/metrics", "{}").call(servlet);
        assertEquals(405, r.status());
        assertEquals("GET, HEAD, OPTIONS", r.header("Allow"));
        assertEquals(405, FakeHttp.delete("/debug/connection/" + Fakes.PEER_ID + "/metrics").call(servlet).status());
        r = FakeHttp.method("HEAD", "/debug/metrics").call(servlet);
        assertEquals(200, r.status());
        assertEquals(0, r.body().length);
        assertTrue(Integer.parseInt(r.header("Content-Length")) > 0);
    }

    @Test
    void shouldNotAskForAdminAccess() throws Exception {
        // read-only: open to any client, with or without a token set
        assertEquals(200, FakeHttp.get("/debug/metrics").remote("192.0.2.7").call(servlet).status());
    }
}
