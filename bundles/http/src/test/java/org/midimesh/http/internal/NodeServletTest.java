package org.midimesh.http.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.midimesh.api.health.BundleProblems;
import org.junit.jupiter.api.Timeout;

import com.fasterxml.jackson.databind.JsonNode;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class NodeServletTest {

    private NodeServlet servlet;
    private Fakes.Control control;

    @BeforeEach
    void setUp() {
        Fakes.Node node = new Fakes.Node();
        servlet = new NodeServlet();
        servlet.localNode = node;
        servlet.registry = Fakes.Registry.standard();
        servlet.mesh = Fakes.FakeMesh.standard(node);
        servlet.routing = new Fakes.Routing();
        servlet.transport = new Fakes.Transport();
        control = new Fakes.Control();
        servlet.strategyControl = control;
    }

    @Test
    void shouldBeUpWithEveryService() throws Exception {
        FakeHttp.Result r = FakeHttp.get("/health").call(servlet);
        assertEquals(200, r.status());
        assertEquals("up", r.json().get("status").asText());
        assertEquals("{\"local_node\":\"up\",\"device_registry\":\"up\",\"mesh\":\"up\",\"routing\":\"up\","
                + "\"transport\":\"up\",\"strategy\":\"up\"}", r.json().get("checks").toString());
        assertEquals(Set.of("status", "checks"), MidiServletTest.fields(r.json()), "no reason while up");
    }

    @Test
    void shouldBeDegradedWithTheReasonWhileTheStrategyManagerCannotRunAsConfigured() throws Exception {
        control.degraded = Optional.of("no connection strategy is available: connections keep their peers but send "
                + "nothing until one is installed");
        FakeHttp.Result r = FakeHttp.get("/health").call(servlet);
        assertEquals(200, r.status(), r::toString);
        JsonNode j = r.json();
        assertEquals(Set.of("status", "checks", "reason"), MidiServletTest.fields(j));
        assertEquals("degraded", j.get("status").asText());
        assertEquals("degraded", j.get("checks").get("strategy").asText());
        assertEquals("up", j.get("checks").get("mesh").asText());
        assertEquals(control.degraded.get(), j.get("reason").asText());
    }

    @Test
    void shouldBeDegradedWithTheMissingPackageWhileAPluginDoesNotResolve() throws Exception {
        List<BundleProblems.Problem> problems = new java.util.concurrent.CopyOnWriteArrayList<>();
        servlet.bundleProblems = () -> List.copyOf(problems);
        assertEquals("up", FakeHttp.get("/health").call(servlet).json().get("checks").get("plugins").asText());
        problems.add(new BundleProblems.Problem("com.example.driver 1.0.0", "file:/data/deploy/driver.jar",
                "missing package com.example.lib"));
        FakeHttp.Result r = FakeHttp.get("/health").call(servlet);
        assertEquals(200, r.status(), r::toString);
        JsonNode j = r.json();
        assertEquals("degraded", j.get("status").asText());
        assertEquals("degraded", j.get("checks").get("plugins").asText());
        assertEquals("bundle com.example.driver 1.0.0 does not resolve: missing package com.example.lib",
                j.get("reason").asText());
        assertEquals("file:/data/deploy/driver.jar", j.get("problems").get(0).get("location").asText());
        control.degraded = Optional.of("no connection strategy is available");
        assertEquals("no connection strategy is available; bundle com.example.driver 1.0.0 does not resolve: missing"
                + " package com.example.lib", FakeHttp.get("/health").call(servlet).json().get("reason").asText());
    }

    @Test
    void shouldBeDownWithoutTheStrategyManager() throws Exception {
        servlet.strategyControl = null;
        FakeHttp.Result r = FakeHttp.get("/health").call(servlet);
        assertEquals(503, r.status(), r::toString);
        assertEquals("down", r.json().get("status").asText());
        assertEquals("down", r.json().get("checks").get("strategy").asText());
        assertFalse(r.json().has("reason"));
        control.failWith = new IllegalStateException("stopping");
        servlet.strategyControl = control;
        r = FakeHttp.get("/health").call(servlet);
        assertEquals(503, r.status(), "a manager that fails is as good as gone, never a 500");
        assertEquals("down", r.json().get("checks").get("strategy").asText());
    }

    @Test
    void shouldBeDownRatherThanDegradedWhenAServiceIsMissingToo() throws Exception {
        control.degraded = Optional.of("canary strategy seda is not available; its share runs mutex");
        servlet.routing = null;
        FakeHttp.Result r = FakeHttp.get("/health").call(servlet);
        assertEquals(503, r.status(), r::toString);
        assertEquals("down", r.json().get("status").asText());
        assertEquals("degraded", r.json().get("checks").get("strategy").asText());
        assertEquals(control.degraded.get(), r.json().get("reason").asText());
    }

    @Test
    void shouldBeDownWith503WhileAServiceIsMissing() throws Exception {
        servlet.mesh = null;
        FakeHttp.Result r = FakeHttp.get("/health").call(servlet);
        assertEquals(503, r.status());
        assertEquals("down", r.json().get("status").asText());
        assertEquals("down", r.json().get("checks").get("mesh").asText());
        assertEquals("up", r.json().get("checks").get("routing").asText());
        NodeServlet empty = new NodeServlet();
        r = FakeHttp.get("/health").call(empty);
        assertEquals(503, r.status());
        assertEquals("down", r.json().get("checks").get("local_node").asText());
    }

    @Test
    void shouldDescribeTheNode() throws Exception {
        FakeHttp.Result r = FakeHttp.get("/node/info").call(servlet);
        assertEquals(200, r.status(), r::toString);
        JsonNode j = r.json();
        assertEquals(Fakes.LOCAL_ID.toString(), j.get("uuid").asText());
        assertEquals("alpha", j.get("name").asText());
        assertEquals("alpha.local", j.get("hostname").asText());
        assertEquals("0.1.0", j.get("version").asText());
        assertEquals(7474, j.get("http_port").asInt());
        assertEquals(7475, j.get("udp_port").asInt());
        assertEquals(7476, j.get("tcp_port").asInt());
        assertTrue(j.get("uptime_seconds").asLong() >= 42);
        assertEquals(3, j.get("local_devices").asInt());
        assertEquals(5, j.get("total_devices").asInt());
        assertEquals("mutex", j.get("strategy").asText());
        assertEquals(11, j.size());
    }

    @Test
    void shouldShowTheStrategyManagersDefaultOrNullWithoutIt() throws Exception {
        control.defaultStrategy = "seda";
        assertEquals("seda", FakeHttp.get("/node/info").call(servlet).json().get("strategy").asText());
        servlet.strategyControl = null;
        FakeHttp.Result r = FakeHttp.get("/node/info").call(servlet);
        assertEquals(200, r.status(), r::toString);
        assertTrue(r.json().get("strategy").isNull());
    }

    @Test
    void shouldAnswer503ForInfoWithoutTheNode() throws Exception {
        servlet.localNode = null;
        FakeHttp.Result r = FakeHttp.get("/node/info").call(servlet);
        assertEquals(503, r.status());
        assertTrue(r.error().startsWith("not ready"));
    }

    @Test
    void shouldAnswer404And405() throws Exception {
        assertEquals(404, FakeHttp.get("/node/infos").call(servlet).status());
        assertEquals(404, FakeHttp.get("/node").call(servlet).status());
        FakeHttp.Result r = FakeHttp.post("/health", "{}").call(servlet);
        assertEquals(405, r.status());
        assertEquals("GET, HEAD, OPTIONS", r.header("Allow"));
    }
}
