package org.midimesh.http.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.midimesh.api.strategy.Canary;
import org.midimesh.api.strategy.PolicyMode;
import org.midimesh.api.strategy.PolicySettings;
import org.midimesh.api.strategy.StrategyChange;
import org.midimesh.api.strategy.StrategyReport;
import org.midimesh.api.strategy.SwapResult;
import org.midimesh.api.strategy.Verdict;

import com.fasterxml.jackson.databind.JsonNode;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class StrategyServletTest {

    private Fakes.Node node;
    private Fakes.Control control;
    private StrategyServlet servlet;

    @BeforeEach
    void setUp() {
        node = new Fakes.Node();
        control = new Fakes.Control();
        servlet = new StrategyServlet(node);
        servlet.control = control;
    }

    // ---- GET /strategy ----------------------------------------------------------------------------------------------

    @Test
    void shouldDescribeTheSettingsAndWhereConnectionsRun() throws Exception {
        control.canary = new Canary("seda", 5, List.of(25, 50, 100));
        control.pins.put(Fakes.PEER_ID, "seda");
        FakeHttp.Result r = FakeHttp.get("/strategy").call(servlet);
        assertEquals(200, r.status(), r::toString);
        assertTrue(r.header("Content-Type").startsWith("application/json"));
        JsonNode j = r.json();
        assertEquals(Set.of("default", "canary", "available", "connections", "pins", "policy", "degraded"),
                MidiServletTest.fields(j));
        assertEquals("mutex", j.get("default").asText());
        assertEquals("{\"strategy\":\"seda\",\"percent\":5,\"steps\":[25,50,100]}", j.get("canary").toString());
        assertEquals("[\"mutex\",\"seda\"]", j.get("available").toString());
        assertEquals("{\"mutex\":2,\"seda\":1}", j.get("connections").toString(), "in name order");
        assertEquals("{\"" + Fakes.PEER_ID + "\":\"seda\"}", j.get("pins").toString());
        assertTrue(j.get("degraded").isNull());
        JsonNode p = j.get("policy");
        assertEquals(Set.of("mode", "window_ms", "holddown_ms", "promote_contention_percent",
                "rollback_p99_regression_percent", "rollback_errors", "rollback_dropped", "rollback_stalls",
                "min_queries", "candidate"), MidiServletTest.fields(p));
        assertEquals("manual", p.get("mode").asText());
        assertEquals(60_000, p.get("window_ms").asLong());
        assertEquals(300_000, p.get("holddown_ms").asLong());
        assertEquals(20.0, p.get("promote_contention_percent").asDouble());
        assertEquals(50.0, p.get("rollback_p99_regression_percent").asDouble());
        assertEquals(5, p.get("rollback_errors").asLong());
        assertEquals(10, p.get("rollback_dropped").asLong());
        assertEquals(3, p.get("rollback_stalls").asLong());
        assertEquals(1000, p.get("min_queries").asLong());
        assertEquals("seda", p.get("candidate").asText());
    }

    @Test
    void shouldShowNoCanaryAndAnAutoPolicy() throws Exception {
        control.policy = new PolicySettings(PolicyMode.AUTO, 1, 2, 3, 4, 5, 6, 7, 8, "seda");
        JsonNode j = FakeHttp.get("/strategy").call(servlet).json();
        assertEquals("{\"strategy\":null,\"percent\":0,\"steps\":[]}", j.get("canary").toString());
        assertEquals("auto", j.get("policy").get("mode").asText());
        assertEquals("{}", j.get("pins").toString());
    }

    @Test
    void shouldShowWhyItIsDegraded() throws Exception {
        control.degraded = Optional.of("default strategy seda is not available; its connections run mutex");
        control.available.remove("seda");
        JsonNode j = FakeHttp.get("/strategy").call(servlet).json();
        assertEquals("default strategy seda is not available; its connections run mutex", j.get("degraded").asText());
        assertEquals("[\"mutex\"]", j.get("available").toString());
    }

    // ---- PUT /strategy ----------------------------------------------------------------------------------------------

    @Test
    void shouldChangeTheDefaultAndAnswerOnceMoved() throws Exception {
        FakeHttp.Result r = FakeHttp.put("/strategy", "{\"default\": \"seda\"}").call(servlet);
        assertEquals(200, r.status(), r::toString);
        assertEquals("{\"migrated\":2,\"took_ms\":15,\"failures\":[]}", r.json().toString());
        assertEquals(List.of(StrategyChange.toDefault("seda")), control.changes);
        assertEquals("seda", FakeHttp.get("/strategy").call(servlet).json().get("default").asText());
    }

    @Test
    void shouldSetACanaryWithOrWithoutSteps() throws Exception {
        FakeHttp.Result r = FakeHttp.put("/strategy",
                "{\"canary\": {\"strategy\": \"seda\", \"percent\": 5, \"steps\": [25, 50, 100]}}").call(servlet);
        assertEquals(200, r.status(), r::toString);
        r = FakeHttp.put("/strategy", "{\"canary\": {\"percent\": 10, \"strategy\": \"seda\"}}").call(servlet);
        assertEquals(200, r.status(), r::toString);
        assertEquals(List.of(StrategyChange.toCanary(new Canary("seda", 5, List.of(25, 50, 100))),
                StrategyChange.toCanary(new Canary("seda", 10, List.of()))), control.changes);
    }

    @Test
    void shouldChangeDefaultAndCanaryTogether() throws Exception {
        FakeHttp.Result r = FakeHttp.put("/strategy",
                "{\"default\": \"mutex\", \"canary\": {\"strategy\": \"seda\", \"percent\": 100}}").call(servlet);
        assertEquals(200, r.status(), r::toString);
        assertEquals(List.of(new StrategyChange(Optional.of("mutex"), Optional.of(new Canary("seda", 100,
                List.of())))), control.changes);
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"canary\": null}", "{\"canary\": {\"percent\": 0}}",
        "{\"canary\": {\"strategy\": \"seda\", \"percent\": 0, \"steps\": [50]}}"})
    void shouldSwitchTheCanaryOffWithNullOrPercentZero(String body) throws Exception {
        control.canary = new Canary("seda", 5, List.of());
        FakeHttp.Result r = FakeHttp.put("/strategy", body).call(servlet);
        assertEquals(200, r.status(), r::toString);
        assertEquals(List.of(StrategyChange.toCanary(Canary.NONE)), control.changes);
    }

    @Test
    void shouldReportConnectionsThatCouldNotMove() throws Exception {
        control.result = new SwapResult(1, 2003, List.of("node 2222: seda refused the handover"));
        FakeHttp.Result r = FakeHttp.put("/strategy", "{\"default\": \"seda\"}").call(servlet);
        assertEquals(200, r.status(), r::toString);
        assertEquals("{\"migrated\":1,\"took_ms\":2003,\"failures\":[\"node 2222: seda refused the handover\"]}",
                r.json().toString());
    }

    @Test
    void shouldRejectAnEmptyChange() throws Exception {
        FakeHttp.Result r = FakeHttp.put("/strategy", "{}").call(servlet);
        assertEquals(400, r.status(), r::toString);
        assertTrue(r.error().startsWith("nothing to change"), r::toString);
        r = FakeHttp.put("/strategy", "").call(servlet);
        assertEquals(400, r.status(), r::toString);
        assertTrue(r.error().startsWith("request body is empty"), r::toString);
        assertTrue(control.changes.isEmpty());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"default\": 5}                                              | default: expected a string",
        "{\"default\": null}                                           | default must be a strategy name, not null",
        "{\"default\": [\"seda\"]}                                     | default: expected a string",
        "{\"defualt\": \"seda\"}                              | defualt: unknown field (allowed: canary, default)",
        "{\"canary\": \"seda\"}                                        | canary: expected an object",
        "{\"canary\": {\"strategy\": \"seda\", \"percent\": \"5\"}}    | canary.percent: expected an integer",
        "{\"canary\": {\"strategy\": \"seda\", \"percent\": 5.5}}      | canary.percent: expected an integer",
        "{\"canary\": {\"strategy\": 1, \"percent\": 5}}               | canary.strategy: expected a string",
        "{\"canary\": {\"strategy\": \"seda\", \"percent\": 5, \"share\": 1}} "
                + "| canary.share: unknown field (allowed: percent, steps, strategy)",
        "{\"canary\": {\"strategy\": \"seda\"}}              | canary.percent is missing (0 switches the canary off)",
        "{\"canary\": {\"strategy\": \"seda\", \"percent\": 101}}      | canary.percent must be 0..100, not 101",
        "{\"canary\": {\"strategy\": \"seda\", \"percent\": -1}}       | canary.percent must be 0..100, not -1",
        "{\"canary\": {\"percent\": 5}}            | canary.strategy is required when canary.percent is above 0",
        "{\"canary\": {\"strategy\": \"seda\", \"percent\": 5, \"steps\": [50, 25]}} "
                + "| canary.steps must ascend within 1..100, not [50, 25]",
        "{\"canary\": {\"strategy\": \"seda\", \"percent\": 5, \"steps\": [25, null]}} "
                + "| canary.steps[1]: expected an integer",
        "{\"canary\": {\"strategy\": \"seda\", \"percent\": 5, \"steps\": 25}} | canary.steps: expected an array",
        "[{\"default\": \"seda\"}]                                     | request body must be a JSON object",
    })
    void shouldNameTheFieldOfAnInvalidChange(String body, String message) throws Exception {
        FakeHttp.Result r = FakeHttp.put("/strategy", body).call(servlet);
        assertEquals(400, r.status(), r::toString);
        assertEquals(message, r.json().get("error").asText());
        assertTrue(control.changes.isEmpty());
    }

    @Test
    void shouldRejectMalformedJsonAndDuplicateKeys() throws Exception {
        FakeHttp.Result r = FakeHttp.put("/strategy", "{\"default\": ").call(servlet);
        assertEquals(400, r.status(), r::toString);
        assertTrue(r.error().startsWith("malformed json"), r::toString);
        r = FakeHttp.put("/strategy", "{\"default\": \"seda\", \"default\": \"mutex\"}").call(servlet);
        assertEquals(400, r.status(), r::toString);
        assertTrue(r.error().contains("duplicate"), r::toString);
        r = FakeHttp.put("/strategy", "{\"default\": \"seda\"}").header("Content-Type", "text/plain").call(servlet);
        assertEquals(415, r.status(), r::toString);
        assertTrue(control.changes.isEmpty());
    }

    @Test
    void shouldRejectAnUnknownStrategyNamingTheField() throws Exception {
        FakeHttp.Result r = FakeHttp.put("/strategy", "{\"default\": \"pool\"}").call(servlet);
        assertEquals(400, r.status(), r::toString);
        assertEquals("default: no strategy named pool is available", r.json().get("error").asText());
        r = FakeHttp.put("/strategy", "{\"canary\": {\"strategy\": \"pool\", \"percent\": 5}}").call(servlet);
        assertEquals(400, r.status(), r::toString);
        assertEquals("canary.strategy: no strategy named pool is available", r.json().get("error").asText());
        assertTrue(control.changes.isEmpty());
        assertEquals("mutex", control.defaultStrategy, "a failed request changes nothing");
    }

    // ---- POST /strategy/rollback ------------------------------------------------------------------------------------

    @Test
    void shouldRollBackWithoutABody() throws Exception {
        control.canary = new Canary("seda", 5, List.of());
        FakeHttp.Result r = FakeHttp.method("POST", "/strategy/rollback").call(servlet);
        assertEquals(200, r.status(), r::toString);
        assertEquals("{\"migrated\":2,\"took_ms\":15,\"failures\":[]}", r.json().toString());
        assertEquals(Canary.NONE, control.canary);
        r = FakeHttp.post("/strategy/rollback", "").call(servlet);
        assertEquals(200, r.status(), r::toString);
        r = FakeHttp.post("/strategy/rollback", "{}").call(servlet);
        assertEquals(200, r.status(), r::toString);
        r = FakeHttp.post("/strategy/rollback", "{\"reason\": null}").call(servlet);
        assertEquals(200, r.status(), r::toString);
        assertEquals(List.of("", "", "", ""), control.rollbacks, "blank: the manager says why itself");
    }

    @Test
    void shouldRollBackWithAReason() throws Exception {
        FakeHttp.Result r = FakeHttp.post("/strategy/rollback", "{\"reason\": \"  seda p99 doubled on stage B \"}")
                .call(servlet);
        assertEquals(200, r.status(), r::toString);
        assertEquals(List.of("seda p99 doubled on stage B"), control.rollbacks);
    }

    @Test
    void shouldRejectAnInvalidRollbackBody() throws Exception {
        FakeHttp.Result r = FakeHttp.post("/strategy/rollback", "{\"reason\": 5}").call(servlet);
        assertEquals(400, r.status(), r::toString);
        assertEquals("reason: expected a string", r.json().get("error").asText());
        r = FakeHttp.post("/strategy/rollback", "{\"why\": \"x\"}").call(servlet);
        assertEquals(400, r.status(), r::toString);
        assertEquals("why: unknown field (allowed: reason)", r.json().get("error").asText());
        r = FakeHttp.post("/strategy/rollback", "{\"reason\": ").call(servlet);
        assertEquals(400, r.status(), r::toString);
        assertTrue(r.error().startsWith("malformed json"), r::toString);
        r = FakeHttp.post("/strategy/rollback", "{\"reason\": \"" + "x".repeat(501) + "\"}").call(servlet);
        assertEquals(400, r.status(), r::toString);
        assertTrue(r.error().startsWith("reason must be at most 500 characters"), r::toString);
        r = FakeHttp.post("/strategy/rollback", "{\"reason\": \"two\\nlines\"}").call(servlet);
        assertEquals(400, r.status(), r::toString);
        assertTrue(r.error().contains("control characters"), r::toString);
        byte[] text = "because".getBytes(StandardCharsets.UTF_8);
        r = FakeHttp.method("POST", "/strategy/rollback").body(text, text.length).call(servlet);
        assertEquals(415, r.status(), "a body needs its content type");
        r = FakeHttp.post("/strategy/rollback", "{}").header("Content-Type", "text/plain").call(servlet);
        assertEquals(415, r.status(), r::toString);
        assertTrue(control.rollbacks.isEmpty());
    }

    // ---- GET /strategy/report and /strategy/decisions ---------------------------------------------------------------

    @Test
    void shouldShowTheReportSideBySide() throws Exception {
        FakeHttp.Result r = FakeHttp.get("/strategy/report").call(servlet);
        assertEquals(200, r.status(), r::toString);
        JsonNode j = r.json();
        assertEquals(Set.of("at", "window_ms", "strategies", "verdict"), MidiServletTest.fields(j));
        assertEquals("2025-01-02T03:04:05.678Z", j.get("at").asText());
        assertEquals(60_000, j.get("window_ms").asLong());
        assertEquals(2, j.get("strategies").size());
        JsonNode m = j.get("strategies").get(0);
        assertEquals(Set.of("strategy", "role", "connections", "queries", "latency_ns", "contention_percent", "stalls",
                "errors", "dropped_messages"), MidiServletTest.fields(m));
        assertEquals("mutex", m.get("strategy").asText());
        assertEquals("default", m.get("role").asText());
        assertEquals(2, m.get("connections").asInt());
        assertEquals(5000, m.get("queries").asLong());
        assertEquals("{\"p50\":120,\"p99\":900,\"p999\":4000}", m.get("latency_ns").toString());
        assertEquals(12.5, m.get("contention_percent").asDouble());
        assertEquals(1, m.get("stalls").asLong());
        assertEquals(2, m.get("errors").asLong());
        assertEquals(3, m.get("dropped_messages").asLong());
        assertEquals("canary", j.get("strategies").get(1).get("role").asText());
        JsonNode v = j.get("verdict");
        assertEquals(Set.of("action", "reason", "figures"), MidiServletTest.fields(v));
        assertEquals("promote", v.get("action").asText());
        assertEquals("mutex contention 12.5% above 10% over the window", v.get("reason").asText());
        assertEquals("{\"canary_p99_ns\":300.0,\"default_contention_percent\":12.5}", v.get("figures").toString());
    }

    @Test
    void shouldShowAFigureWithoutDataAsNull() throws Exception {
        control.report = new StrategyReport(Instant.EPOCH, 0, List.of(),
                new Verdict(Verdict.Action.KEEP, "no figures yet", Map.of("canary_p99_ns", Double.NaN)));
        JsonNode j = FakeHttp.get("/strategy/report").call(servlet).json();
        assertEquals("1970-01-01T00:00:00Z", j.get("at").asText());
        assertEquals("[]", j.get("strategies").toString());
        assertEquals("keep", j.get("verdict").get("action").asText());
        assertTrue(j.get("verdict").get("figures").get("canary_p99_ns").isNull());
    }

    @Test
    void shouldListDecisionsNewestFirst() throws Exception {
        FakeHttp.Result r = FakeHttp.get("/strategy/decisions").call(servlet);
        assertEquals(200, r.status(), r::toString);
        JsonNode d = r.json().get("decisions");
        assertEquals(Set.of("decisions"), MidiServletTest.fields(r.json()));
        assertEquals(2, d.size());
        JsonNode first = d.get(0);
        assertEquals(Set.of("at", "source", "action", "reason", "figures", "applied", "change"),
                MidiServletTest.fields(first));
        assertEquals("2025-01-02T03:05:00Z", first.get("at").asText());
        assertEquals("operator", first.get("source").asText());
        assertEquals("rollback", first.get("action").asText());
        assertEquals("asked for by an operator", first.get("reason").asText());
        assertEquals("{}", first.get("figures").toString());
        assertTrue(first.get("applied").asBoolean());
        assertEquals("canary seda 5% -> 0%", first.get("change").asText());
        JsonNode second = d.get(1);
        assertEquals("policy", second.get("source").asText());
        assertEquals("keep", second.get("action").asText());
        assertEquals(12.0, second.get("figures").get("queries").asDouble());
        assertTrue(!second.get("applied").asBoolean());
        assertTrue(second.get("change").isNull(), "nothing changed");

        control.decisions = List.of();
        assertEquals("{\"decisions\":[]}", FakeHttp.get("/strategy/decisions").call(servlet).json().toString());
    }

    // ---- readiness, access, methods ---------------------------------------------------------------------------------

    @Test
    void shouldAnswer503WithoutTheStrategyManager() throws Exception {
        servlet.control = null;
        List<FakeHttp> requests = List.of(FakeHttp.get("/strategy"), FakeHttp.get("/strategy/report"),
                FakeHttp.get("/strategy/decisions"), FakeHttp.put("/strategy", "{\"default\": \"seda\"}"),
                FakeHttp.method("POST", "/strategy/rollback"));
        for (FakeHttp request : requests) {
            FakeHttp.Result r = request.call(servlet);
            assertEquals(503, r.status(), r::toString);
            assertTrue(r.error().startsWith("not ready: the strategy manager"), r::toString);
        }
        assertTrue(control.changes.isEmpty());
        assertTrue(control.rollbacks.isEmpty());
    }

    @Test
    void shouldAnswer503WhileTheManagerStops() throws Exception {
        control.failWith = new IllegalStateException("the strategy manager is stopping");
        FakeHttp.Result r = FakeHttp.put("/strategy", "{\"default\": \"seda\"}").call(servlet);
        assertEquals(503, r.status(), r::toString);
        assertEquals("not ready: the strategy manager is stopping", r.json().get("error").asText());
    }

    @Test
    void shouldGuardChangesButNotReads() throws Exception {
        assertEquals(403, FakeHttp.put("/strategy", "{\"default\": \"seda\"}").remote("192.0.2.7").call(servlet)
                .status());
        assertEquals(403, FakeHttp.method("POST", "/strategy/rollback").remote("192.0.2.7").call(servlet).status());
        for (String path : List.of("/strategy", "/strategy/report", "/strategy/decisions")) {
            assertEquals(200, FakeHttp.get(path).remote("192.0.2.7").call(servlet).status(), path);
        }
        node.token = Optional.of("s3cret");
        assertEquals(401, FakeHttp.put("/strategy", "{\"default\": \"seda\"}").call(servlet).status());
        assertEquals(403, FakeHttp.put("/strategy", "{\"default\": \"seda\"}").bearer("wrong").call(servlet)
                .status());
        assertEquals(401, FakeHttp.method("POST", "/strategy/rollback").remote("192.0.2.7").call(servlet).status());
        assertTrue(control.changes.isEmpty());
        assertTrue(control.rollbacks.isEmpty());
        assertEquals(200, FakeHttp.put("/strategy", "{\"default\": \"seda\"}").bearer("s3cret").remote("192.0.2.7")
                .call(servlet).status());
        assertEquals(200, FakeHttp.method("POST", "/strategy/rollback").bearer("s3cret").remote("192.0.2.7")
                .call(servlet).status());
        assertEquals(1, control.changes.size());
        assertEquals(1, control.rollbacks.size());
    }

    @Test
    void shouldCheckAccessBeforeReadingTheBody() throws Exception {
        FakeHttp request = FakeHttp.put("/strategy", "{\"default\": ").remote("192.0.2.7");
        assertEquals(403, request.call(servlet).status());
        assertEquals(0, request.bytesRead);
    }

    @Test
    void shouldAnswer404And405AndHead() throws Exception {
        assertEquals(404, FakeHttp.get("/strategy/nothing").call(servlet).status());
        assertEquals(404, FakeHttp.get("/strategy/report/x").call(servlet).status());
        FakeHttp.Result r = FakeHttp.delete("/strategy").call(servlet);
        assertEquals(405, r.status());
        assertEquals("GET, HEAD, PUT, OPTIONS", r.header("Allow"));
        r = FakeHttp.get("/strategy/rollback").call(servlet);
        assertEquals(405, r.status());
        assertEquals("POST, OPTIONS", r.header("Allow"));
        r = FakeHttp.put("/strategy/report", "{}").call(servlet);
        assertEquals(405, r.status());
        assertEquals("GET, HEAD, OPTIONS", r.header("Allow"));
        assertEquals(405, FakeHttp.post("/strategy/decisions", "{}").call(servlet).status());
        r = FakeHttp.method("HEAD", "/strategy").call(servlet);
        assertEquals(200, r.status());
        assertEquals(0, r.body().length);
        r = FakeHttp.method("OPTIONS", "/strategy").call(servlet);
        assertEquals(204, r.status());
        assertEquals("GET, HEAD, PUT, OPTIONS", r.header("Allow"));
    }
}
