package org.midimesh.http.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class FallbackServletTest {

    private final FallbackServlet servlet = new FallbackServlet();

    @Test
    void shouldAnswer404JsonForUnknownPaths() throws Exception {
        FakeHttp.Result r = FakeHttp.get("/nothing/here").call(servlet);
        assertEquals(404, r.status());
        assertEquals("no such endpoint: /nothing/here", r.json().get("error").asText());
        assertEquals(404, FakeHttp.post("/", "{}").call(servlet).status());
        assertEquals(404, FakeHttp.get("/midifoo").call(servlet).status());
    }

    @Test
    void shouldAnswer503ForAnAreaWhoseServletIsNotThereYet() throws Exception {
        assertEquals(503, FakeHttp.get("/midi/devices").call(servlet).status());
        assertEquals(503, FakeHttp.post("/network/handshake", "{}").call(servlet).status());
        assertEquals(503, FakeHttp.get("/health").call(servlet).status());
        assertEquals(503, FakeHttp.get("/debug/metrics").call(servlet).status());
        assertEquals(503, FakeHttp.get("/debug/connection/" + Fakes.PEER_ID + "/metrics").call(servlet).status());
        assertEquals(503, FakeHttp.get("/metrics").call(servlet).status());
        assertEquals(503, FakeHttp.get("/strategy").call(servlet).status());
        assertEquals(503, FakeHttp.put("/strategy", "{}").call(servlet).status());
        assertEquals(503, FakeHttp.get("/strategy/report").call(servlet).status());
        assertEquals(503, FakeHttp.method("POST", "/strategy/rollback").call(servlet).status());
    }

    @Test
    void shouldAnswer404BelowAPathThatIsServedExactly() throws Exception {
        // /health and /metrics are exact patterns: what lies below them is no endpoint, whether or not they are up
        assertEquals(404, FakeHttp.get("/health/x").call(servlet).status());
        assertEquals(404, FakeHttp.get("/metrics/x").call(servlet).status());
        assertEquals(404, FakeHttp.get("/metricsx").call(servlet).status());
        assertEquals(404, FakeHttp.get("/debugging").call(servlet).status());
        assertEquals(404, FakeHttp.get("/strategyx").call(servlet).status());
    }
}
