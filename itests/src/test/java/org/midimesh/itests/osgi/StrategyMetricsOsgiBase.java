package org.midimesh.itests.osgi;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import javax.inject.Inject;

import org.midimesh.api.strategy.spi.ConnectionStrategy;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A node in Felix whose default strategy is {@link #strategy()}: the strategy service is there, a peer's connection is
 * made with it, and the metrics endpoints serve its counters as JSON and as Prometheus text. Subclasses pick the
 * strategy (Pax Exam configures per class) and declare the test method themselves: Pax Exam's probe runs a test
 * method by its declaring class, so an inherited @Test would run on the wrong class.
 */
public abstract class StrategyMetricsOsgiBase {

    private static final Duration SETTLE = Duration.ofSeconds(30);

    @Inject
    BundleContext context;

    /** The whole check for a node whose default strategy is {@code name}. */
    void assertNodeUsesStrategyAndServesItsMetrics(String name) throws Exception {
        Poll.until("a ConnectionStrategy service with strategy=" + name, SETTLE,
                () -> context.getServiceReferences(ConnectionStrategy.class, "(strategy=" + name + ")"),
                refs -> refs.size() == 1);
        int port = Integer.parseInt(context.getProperty(MidiMeshOsgiOptions.HTTP_PORT));
        LoopbackHttp http = new LoopbackHttp(port);
        try {
            Poll.until("GET /health answers 200", SETTLE, () -> http.get("/health"), r -> r.status() == 200);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + ComponentReport.all(context), e);
        }

        // A peer introduces itself; nothing listens on its ports, which is fine for what is checked here.
        String peer = UUID.randomUUID().toString();
        LoopbackHttp.Response hello = http.post("/network/handshake", Map.of("node_id", peer, "node_name", "phantom",
                "version", "0.1.0", "http_port", MidiMeshOsgiOptions.freeTcpPort(), "udp_port",
                MidiMeshOsgiOptions.freeUdpPort(), "tcp_port", MidiMeshOsgiOptions.freeTcpPort(), "devices",
                List.of(Map.of("id", 1, "name", "phantom In", "type", "input"))));
        assertEquals("POST /network/handshake: " + hello, 200, hello.status());

        JsonNode mesh = http.get("/network/mesh").json();
        assertEquals("/network/mesh: " + mesh, name, mesh.path("nodes").path(0).path("strategy").asText());

        LoopbackHttp.Response one = http.get("/debug/connection/" + peer + "/metrics");
        assertEquals("GET /debug/connection/{uuid}/metrics: " + one, 200, one.status());
        JsonNode m = one.json();
        assertEquals(one.body(), name, m.path("strategy").asText());
        for (String field : List.of("total_queries", "mutex_contentions", "contention_percent",
                "callbacks_dispatched", "commands_processed", "queue_depth", "state")) {
            assertTrue(field + " in " + one.body(), m.has(field));
        }

        LoopbackHttp.Response all = http.get("/debug/metrics");
        assertEquals("GET /debug/metrics: " + all, 200, all.status());
        JsonNode per = all.json().path("per_strategy").path(name);
        assertTrue("per_strategy." + name + " in " + all.body(), per.isObject());
        assertTrue("one connection uses " + name + ": " + all.body(), per.path("connections").asInt() >= 1);
        assertTrue("queries were counted: " + all.body(), all.json().path("total_queries").asLong() > 0);

        LoopbackHttp.Response prom = http.get("/metrics");
        assertEquals("GET /metrics: " + prom, 200, prom.status());
        assertTrue("Prometheus text 0.0.4: " + prom.contentType(), prom.contentType().startsWith("text/plain")
                && prom.contentType().contains("version=0.0.4"));
        assertTrue("queries of " + name + " in /metrics", prom.body().lines()
                .anyMatch(l -> l.startsWith("midimesh_connection_queries_total{") && l.contains("strategy=\"" + name
                        + "\"")));
        ServiceReference<?> ref = context.getServiceReferences(ConnectionStrategy.class, "(strategy=" + name + ")")
                .iterator().next();
        assertEquals(name, ref.getProperty(ConnectionStrategy.STRATEGY_PROPERTY));
    }
}
