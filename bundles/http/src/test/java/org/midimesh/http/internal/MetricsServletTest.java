package org.midimesh.http.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.routing.Route;
import org.midimesh.api.routing.RouteEndpoint;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class MetricsServletTest {

    private static final String BETA = Fakes.PEER_ID.toString();
    private static final String GAMMA = DebugServletTest.GAMMA_ID.toString();

    private Fakes.Node node;
    private Fakes.FakeMesh mesh;
    private Fakes.Control control;
    private MetricsServlet servlet;

    @BeforeEach
    void setUp() {
        node = new Fakes.Node();
        node.startedAt = Instant.ofEpochMilli(1_700_000_000_250L);
        mesh = DebugServletTest.fixture();
        servlet = new MetricsServlet();
        servlet.localNode = node;
        servlet.mesh = mesh;
        servlet.transport = new Fakes.Transport();
        servlet.routing = new Fakes.Routing().add(route("r1", true)).add(route("r2", false)).add(route("r3", true));
        control = new Fakes.Control();
        DebugServletTest.strategyTotals(control);
        servlet.strategyControl = control;
    }

    private static Route route(String id, boolean enabled) {
        return new Route(id, enabled, 100, new RouteEndpoint(Fakes.LOCAL_ID, 1), new RouteEndpoint(Fakes.PEER_ID, 2),
                0, Set.of(), 0, 0, false, "");
    }

    private Map<String, PrometheusFormat.Family> scrape() throws Exception {
        FakeHttp.Result r = FakeHttp.get("/metrics").call(servlet);
        assertEquals(200, r.status(), r::toString);
        assertEquals("text/plain; version=0.0.4; charset=utf-8", r.header("Content-Type"));
        assertEquals(String.valueOf(r.body().length), r.header("Content-Length"));
        return PrometheusFormat.parse(r.text());
    }

    @Test
    void shouldExposeValidTextWithHelpAndTypeForEveryFamily() throws Exception {
        Map<String, PrometheusFormat.Family> f = scrape();
        for (PrometheusFormat.Family family : f.values()) {
            assertTrue(family.name().startsWith("midimesh_"), family.name());
            assertFalse(family.help().isBlank(), family.name());
            assertEquals(family.type().equals("counter"), family.name().endsWith("_total"), family.name());
        }
        Set<String> expected = Set.of("midimesh_service_up", "midimesh_node_info", "midimesh_node_start_time_seconds",
                "midimesh_connection_queries_total", "midimesh_connection_mutex_contentions_total",
                "midimesh_connection_contention_percent", "midimesh_connection_callbacks_dispatched_total",
                "midimesh_connection_commands_processed_total", "midimesh_connection_queue_depth",
                "midimesh_connection_errors_total", "midimesh_connection_dropped_messages_total",
                "midimesh_connection_stalls_total", "midimesh_peer_connection_stalls_total",
                "midimesh_connection_query_latency_ns", "midimesh_connection_query_latency_max_ns",
                "midimesh_connections", "midimesh_peer_connection_state", "midimesh_peer_connection_queries_total",
                "midimesh_peer_connection_mutex_contentions_total", "midimesh_peer_connection_contention_percent",
                "midimesh_peer_connection_callbacks_dispatched_total",
                "midimesh_peer_connection_commands_processed_total", "midimesh_peer_connection_queue_depth",
                "midimesh_peer_connection_errors_total", "midimesh_peer_connection_dropped_messages_total",
                "midimesh_peer_connection_query_latency_ns", "midimesh_peer_connection_query_latency_max_ns",
                "midimesh_datagrams_in_total", "midimesh_datagrams_out_total", "midimesh_bytes_in_total",
                "midimesh_bytes_out_total", "midimesh_datagrams_malformed_total", "midimesh_realtime_drops_total",
                "midimesh_reliable_retries_total", "midimesh_peer_datagrams_in_total",
                "midimesh_peer_datagrams_out_total", "midimesh_peer_bytes_in_total", "midimesh_peer_bytes_out_total",
                "midimesh_peer_datagrams_malformed_total", "midimesh_peer_realtime_drops_total",
                "midimesh_peer_reliable_retries_total", "midimesh_routing_messages_forwarded_total",
                "midimesh_routing_messages_dropped_total", "midimesh_routing_loops_detected_total",
                "midimesh_routes");
        assertEquals(expected, f.keySet());
    }

    @Test
    void shouldExposeEachStrategy() throws Exception {
        Map<String, PrometheusFormat.Family> f = scrape();
        assertEquals(1000, f.get("midimesh_connection_queries_total").value("strategy", "mutex"));
        assertEquals(3000, f.get("midimesh_connection_queries_total").value("strategy", "seda"));
        assertEquals(100, f.get("midimesh_connection_mutex_contentions_total").value("strategy", "mutex"));
        assertEquals(10.0, f.get("midimesh_connection_contention_percent").value("strategy", "mutex"));
        assertEquals(0.0, f.get("midimesh_connection_contention_percent").value("strategy", "seda"));
        assertEquals(60, f.get("midimesh_connection_callbacks_dispatched_total").value("strategy", "seda"));
        assertEquals(75, f.get("midimesh_connection_commands_processed_total").value("strategy", "seda"));
        assertEquals(5, f.get("midimesh_connection_queue_depth").value("strategy", "seda"));
        assertEquals(3, f.get("midimesh_connection_errors_total").value("strategy", "mutex"));
        assertEquals(4, f.get("midimesh_connection_dropped_messages_total").value("strategy", "seda"));
        assertEquals(5, f.get("midimesh_connection_stalls_total").value("strategy", "mutex"));
        assertEquals(1, f.get("midimesh_connection_stalls_total").value("strategy", "seda"));
        assertEquals("counter", f.get("midimesh_connection_stalls_total").type());
        assertTrue(f.get("midimesh_connection_stalls_total").help().startsWith("Times a connection could not go on"));
        PrometheusFormat.Family lat = f.get("midimesh_connection_query_latency_ns");
        assertEquals("summary", lat.type());
        assertEquals(120, lat.value("strategy", "mutex", "quantile", "0.5"));
        assertEquals(900, lat.value("strategy", "mutex", "quantile", "0.99"));
        assertEquals(4000, lat.value("strategy", "mutex", "quantile", "0.999"));
        assertEquals(500, lat.sampleValue("midimesh_connection_query_latency_ns_count", "strategy", "mutex"));
        assertEquals(700, lat.sampleValue("midimesh_connection_query_latency_ns_count", "strategy", "seda"));
        assertEquals(8, lat.samples().size(), "3 quantiles and a count per strategy");
        assertEquals(8000, f.get("midimesh_connection_query_latency_max_ns").value("strategy", "mutex"));
    }

    @Test
    void shouldCountConnectionsByStrategyAndState() throws Exception {
        PrometheusFormat.Family c = scrape().get("midimesh_connections");
        assertEquals(8, c.samples().size(), "every state of every strategy, zeros included");
        assertEquals(1, c.value("strategy", "mutex", "state", "connected"));
        assertEquals(1, c.value("strategy", "mutex", "state", "connecting"));
        assertEquals(0, c.value("strategy", "mutex", "state", "failed"));
        assertEquals(0, c.value("strategy", "mutex", "state", "disconnected"));
        assertEquals(1, c.value("strategy", "seda", "state", "connected"));
        assertEquals(0, c.value("strategy", "seda", "state", "connecting"));
    }

    @Test
    void shouldExposeEachConnectionWithItsPeerLabel() throws Exception {
        Map<String, PrometheusFormat.Family> f = scrape();
        PrometheusFormat.Family q = f.get("midimesh_peer_connection_queries_total");
        assertEquals(2, q.samples().size(), "the connection without a peer id has no per-peer series");
        assertEquals(70, q.value("peer", BETA, "strategy", "mutex"));
        assertEquals(0, q.value("peer", GAMMA, "strategy", "seda"));
        assertEquals(10, f.get("midimesh_peer_connection_queue_depth").value("peer", BETA, "strategy", "mutex"));
        assertEquals(13, f.get("midimesh_peer_connection_dropped_messages_total")
                .value("peer", BETA, "strategy", "mutex"));
        PrometheusFormat.Family stalls = f.get("midimesh_peer_connection_stalls_total");
        assertEquals("counter", stalls.type());
        assertEquals(14, stalls.value("peer", BETA, "strategy", "mutex"));
        assertEquals(0, stalls.value("peer", GAMMA, "strategy", "seda"));
        assertEquals(10.0, f.get("midimesh_peer_connection_contention_percent")
                .value("peer", BETA, "strategy", "mutex"));
        PrometheusFormat.Family lat = f.get("midimesh_peer_connection_query_latency_ns");
        assertEquals(1400, lat.value("peer", BETA, "strategy", "mutex", "quantile", "0.99"));
        assertEquals(11, lat.sampleValue("midimesh_peer_connection_query_latency_ns_count", "peer", BETA, "strategy",
                "mutex"));
        assertEquals(2800, f.get("midimesh_peer_connection_query_latency_max_ns")
                .value("peer", BETA, "strategy", "mutex"));
        // gamma has sampled nothing yet: no latency rather than 0 ns
        assertTrue(Double.isNaN(lat.value("peer", GAMMA, "strategy", "seda", "quantile", "0.5")));
        assertEquals(0, lat.sampleValue("midimesh_peer_connection_query_latency_ns_count", "peer", GAMMA, "strategy",
                "seda"));
        assertTrue(Double.isNaN(f.get("midimesh_peer_connection_query_latency_max_ns")
                .value("peer", GAMMA, "strategy", "seda")));
        PrometheusFormat.Family state = f.get("midimesh_peer_connection_state");
        assertEquals(8, state.samples().size());
        assertEquals(1, state.value("peer", BETA, "state", "connected"));
        assertEquals(0, state.value("peer", BETA, "state", "failed"));
        // peers in id order: beta (2222...) before gamma (3333...)
        List<String> peers = q.samples().stream().map(s -> s.labels().get("peer")).toList();
        assertEquals(List.of(BETA, GAMMA), peers);
    }

    @Test
    void shouldExposeTransportTotalsAndPerPeerAndRouting() throws Exception {
        Map<String, PrometheusFormat.Family> f = scrape();
        assertEquals(100, f.get("midimesh_datagrams_in_total").value());
        assertEquals(90, f.get("midimesh_datagrams_out_total").value());
        assertEquals(5000, f.get("midimesh_bytes_in_total").value());
        assertEquals(4000, f.get("midimesh_bytes_out_total").value());
        assertEquals(3, f.get("midimesh_datagrams_malformed_total").value());
        assertEquals(1, f.get("midimesh_realtime_drops_total").value());
        assertEquals(2, f.get("midimesh_reliable_retries_total").value());
        assertEquals(100, f.get("midimesh_peer_datagrams_in_total").value("peer", BETA));
        assertEquals(2, f.get("midimesh_peer_reliable_retries_total").value("peer", BETA));
        assertEquals(10, f.get("midimesh_routing_messages_forwarded_total").value());
        assertEquals(2, f.get("midimesh_routing_messages_dropped_total").value());
        assertEquals(1, f.get("midimesh_routing_loops_detected_total").value());
        assertEquals(2, f.get("midimesh_routes").value("enabled", "true"));
        assertEquals(1, f.get("midimesh_routes").value("enabled", "false"));
    }

    @Test
    void shouldExposeTheNodeWithEscapedLabelValues() throws Exception {
        node.name = "studio \"A\"\\rack\nB";
        FakeHttp.Result r = FakeHttp.get("/metrics").call(servlet);
        String line = r.text().lines().filter(l -> l.startsWith("midimesh_node_info")).findFirst().orElseThrow();
        assertEquals("midimesh_node_info{uuid=\"" + Fakes.LOCAL_ID + "\",name=\"studio \\\"A\\\"\\\\rack\\nB\","
                + "version=\"0.1.0\"} 1", line);
        Map<String, PrometheusFormat.Family> f = PrometheusFormat.parse(r.text());
        assertEquals(node.name, f.get("midimesh_node_info").samples().get(0).labels().get("name"));
        assertEquals(1_700_000_000.25, f.get("midimesh_node_start_time_seconds").value());
        assertEquals(1, f.get("midimesh_service_up").value("service", "mesh"));
        assertEquals(1, f.get("midimesh_service_up").value("service", "strategy"));
    }

    @Test
    void shouldLeaveStrategyTotalsOutWithoutTheStrategyManager() throws Exception {
        servlet.strategyControl = null;
        Map<String, PrometheusFormat.Family> f = scrape();
        assertEquals(0, f.get("midimesh_service_up").value("service", "strategy"));
        assertEquals(1, f.get("midimesh_service_up").value("service", "mesh"));
        assertEquals(0, f.get("midimesh_connection_queries_total").samples().size());
        assertEquals(0, f.get("midimesh_connection_stalls_total").samples().size());
        // the live connections still show, under the strategy each runs
        PrometheusFormat.Family c = f.get("midimesh_connections");
        assertEquals(8, c.samples().size());
        assertEquals(1, c.value("strategy", "seda", "state", "connected"));
        assertEquals(14, f.get("midimesh_peer_connection_stalls_total").value("peer", BETA, "strategy", "mutex"));

        control.failWith = new IllegalStateException("the strategy manager is stopping");
        servlet.strategyControl = control;
        f = scrape();
        assertEquals(0, f.get("midimesh_connection_queries_total").samples().size(), "a failing manager: left out");
    }

    @Test
    void shouldStillAnswerWithoutTheOptionalServices() throws Exception {
        servlet.localNode = null;
        servlet.mesh = null;
        servlet.transport = null;
        servlet.routing = null;
        Map<String, PrometheusFormat.Family> f = scrape();
        PrometheusFormat.Family up = f.get("midimesh_service_up");
        for (String s : List.of("local_node", "mesh", "transport", "routing")) {
            assertEquals(0, up.value("service", s), s);
        }
        assertEquals(1000, f.get("midimesh_connection_queries_total").value("strategy", "mutex"));
        Set<String> left = f.keySet().stream().filter(n -> n.startsWith("midimesh_peer_")
                || n.startsWith("midimesh_routing_") || n.startsWith("midimesh_node_")
                || n.equals("midimesh_connections") || n.startsWith("midimesh_datagrams")).collect(Collectors.toSet());
        assertEquals(Set.of(), left);
    }

    @Test
    void shouldWriteHeadersOnlyWithoutStrategiesOrPeers() throws Exception {
        servlet = new MetricsServlet();
        servlet.mesh = new Fakes.FakeMesh(node);
        Map<String, PrometheusFormat.Family> f = scrape();
        assertEquals(0, f.get("midimesh_connection_queries_total").samples().size());
        assertEquals(0, f.get("midimesh_connections").samples().size());
        assertEquals(0, f.get("midimesh_peer_connection_state").samples().size());
    }

    @Test
    void shouldAnswerHeadAnd405AndJsonErrors() throws Exception {
        FakeHttp.Result r = FakeHttp.method("HEAD", "/metrics").call(servlet);
        assertEquals(200, r.status());
        assertEquals(0, r.body().length);
        assertEquals("text/plain; version=0.0.4; charset=utf-8", r.header("Content-Type"));
        r = FakeHttp.post("/metrics", "{}").call(servlet);
        assertEquals(405, r.status());
        assertEquals("GET, HEAD, OPTIONS", r.header("Allow"));
        assertTrue(r.error().contains("not allowed"));
    }

    @Test
    void shouldAnswer500AsJsonWhenASourceFails() throws Exception {
        servlet.transport = new Fakes.Transport() {
            @Override
            public Counters total() {
                throw new IllegalStateException("boom");
            }
        };
        FakeHttp.Result r = FakeHttp.get("/metrics").call(servlet);
        assertEquals(500, r.status());
        assertEquals("internal error; the server log has the details", r.json().get("error").asText());
    }
}
