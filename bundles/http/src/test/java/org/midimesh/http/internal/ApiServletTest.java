package org.midimesh.http.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.midimesh.api.routing.Route;
import org.midimesh.api.routing.RouteRequest;

/** What every endpoint shares: body limits, content type, strict JSON, admin access, methods, errors. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ApiServletTest {

    private static final String ROUTE = "{\"source\": {\"node_id\": \"local\", \"device_id\": 1},"
            + " \"destination\": {\"node_id\": \"local\", \"device_id\": 2}}";

    private Fakes.Node node;
    private Fakes.Routing routing;
    private RoutingServlet servlet;

    @BeforeEach
    void setUp() {
        node = new Fakes.Node();
        routing = new Fakes.Routing();
        servlet = new RoutingServlet(node, routing);
    }

    @Test
    void shouldAnswer400ForMalformedJson() throws Exception {
        FakeHttp.Result r = FakeHttp.post("/routing/routes", "{\"source\": ").call(servlet);
        assertEquals(400, r.status());
        assertTrue(r.error().startsWith("malformed json"), r::toString);
        assertTrue(routing.requests.isEmpty());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"priority\": \"12\"}                          | priority: expected an integer",
        "{\"priority\": 1.5}                             | priority: expected an integer",
        "{\"priority\": true}                            | priority: expected an integer",
        "{\"priority\": 99999999999}                     | priority: number out of range",
        "{\"enabled\": 1}                                | enabled: expected true or false",
        "{\"enabled\": \"true\"}                         | enabled: expected true or false",
        "{\"source\": {\"node_id\": \"local\", \"device_id\": \"1\"}} | source.device_id: expected an integer",
        "{\"source\": {\"node_id\": 5, \"device_id\": 1}} | source.node_id: expected a string",
        "{\"source\": [1]}                               | source: expected an object",
        "{\"message_types\": \"note_on\"}                | message_types: expected an array",
        "{\"message_types\": [\"note_on\", 3]}           | message_types[1]: expected a string",
        "[1, 2]                                          | request body must be a JSON object",
        "\"text\"                                        | request body must be a JSON object",
        "null                                            | request body must be a JSON object",
    })
    void shouldNameTheFieldWithAWrongType(String body, String message) throws Exception {
        FakeHttp.Result r = FakeHttp.post("/routing/routes", body).call(servlet);
        assertEquals(400, r.status(), r::toString);
        assertEquals(message, r.json().get("error").asText());
        assertTrue(routing.requests.isEmpty());
    }

    @Test
    void shouldRejectUnknownFieldsNamingThem() throws Exception {
        FakeHttp.Result r = FakeHttp.post("/routing/routes", "{\"sauce\": 1}").call(servlet);
        assertEquals(400, r.status());
        assertTrue(r.json().get("error").asText().startsWith("sauce: unknown field (allowed: channel_filter,"),
                r::toString);
        r = FakeHttp.post("/routing/routes",
                "{\"source\": {\"node_id\": \"local\", \"device_id\": 1, \"port\": 3}}").call(servlet);
        assertEquals(400, r.status());
        assertTrue(r.json().get("error").asText().startsWith("source.port: unknown field"), r::toString);
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"enabled\": true} {}", "{\"enabled\": true, \"enabled\": false}", "{enabled: true}",
        "{\"enabled\": true,}", "{\"enabled\": tru}"})
    void shouldRejectTrailingContentDuplicatesAndSyntaxErrors(String body) throws Exception {
        FakeHttp.Result r = FakeHttp.put("/routing/routes/x", body).call(servlet);
        assertEquals(400, r.status(), r::toString);
        assertTrue(routing.requests.isEmpty());
    }

    @Test
    void shouldRejectAnEmptyBody() throws Exception {
        FakeHttp.Result r = FakeHttp.post("/routing/routes", "").call(servlet);
        assertEquals(400, r.status());
        assertTrue(r.error().contains("empty"), r::toString);
    }

    @Test
    void shouldAnswer413ByContentLengthWithoutReading() throws Exception {
        FakeHttp http = FakeHttp.post("/routing/routes", ROUTE);
        http.body(ROUTE.getBytes(StandardCharsets.UTF_8), Exchange.MAX_BODY + 1L);
        FakeHttp.Result r = http.call(servlet);
        assertEquals(413, r.status());
        assertTrue(r.error().contains("1 mib"), r::toString);
        assertEquals(0, http.bytesRead);
        assertTrue(routing.requests.isEmpty());
    }

    @Test
    void shouldAnswer413WhileReadingAStreamedBodyAndNeverBufferMore() throws Exception {
        FakeHttp http = FakeHttp.post("/routing/routes", ROUTE).streamedBody(4L * Exchange.MAX_BODY);
        FakeHttp.Result r = http.call(servlet);
        assertEquals(413, r.status());
        assertTrue(http.bytesRead <= Exchange.MAX_BODY + 1L, () -> "read " + http.bytesRead);
        FakeHttp exact = FakeHttp.post("/routing/routes", ROUTE).streamedBody(Exchange.MAX_BODY + 1L);
        assertEquals(413, exact.call(servlet).status());
    }

    @Test
    void shouldAcceptABodyOfExactlyOneMebibyte() throws Exception {
        byte[] body = new byte[Exchange.MAX_BODY];
        Arrays.fill(body, (byte) ' ');
        byte[] json = ROUTE.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(json, 0, body, 0, json.length);
        FakeHttp.Result r = FakeHttp.post("/routing/routes", "").body(body, body.length).call(servlet);
        assertEquals(201, r.status(), r::toString);
        r = FakeHttp.post("/routing/routes", "").body(body, -1).call(servlet);
        assertEquals(201, r.status(), r::toString);
    }

    @ParameterizedTest
    @ValueSource(strings = {"text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1",
        "application/jsonx", ""})
    void shouldAnswer415ForOtherContentTypes(String type) throws Exception {
        FakeHttp.Result r = FakeHttp.post("/routing/routes", ROUTE).header("Content-Type", type).call(servlet);
        assertEquals(415, r.status(), r::toString);
        assertTrue(routing.requests.isEmpty());
        r = FakeHttp.post("/routing/routes", ROUTE).header("Content-Type", null).call(servlet);
        assertEquals(415, r.status());
    }

    @ParameterizedTest
    @ValueSource(strings = {"application/json; charset=utf-8", "Application/JSON;charset=\"UTF-8\"",
        "application/json"})
    void shouldAcceptJsonContentTypes(String type) throws Exception {
        assertEquals(201, FakeHttp.post("/routing/routes", ROUTE).header("Content-Type", type).call(servlet).status());
    }

    @Test
    void shouldAskForTheTokenWhenOneIsSet() throws Exception {
        node.token = Optional.of("s3cret");
        FakeHttp.Result r = FakeHttp.post("/routing/routes", ROUTE).call(servlet);
        assertEquals(401, r.status());
        assertNotNull(r.header("WWW-Authenticate"));
        r = FakeHttp.post("/routing/routes", ROUTE).header("Authorization", "Basic czNjcmV0").call(servlet);
        assertEquals(401, r.status());
        r = FakeHttp.post("/routing/routes", ROUTE).bearer("wrong").call(servlet);
        assertEquals(403, r.status());
        r = FakeHttp.post("/routing/routes", ROUTE).bearer("s3cret-").call(servlet);
        assertEquals(403, r.status());
        assertTrue(routing.requests.isEmpty(), "a refused request changes nothing");
        r = FakeHttp.post("/routing/routes", ROUTE).bearer("s3cret").remote("192.0.2.7").call(servlet);
        assertEquals(201, r.status(), "the token admits remote clients");
    }

    @Test
    void shouldCheckAdminAccessBeforeReadingTheBody() throws Exception {
        node.token = Optional.of("s3cret");
        FakeHttp http = FakeHttp.post("/routing/routes", "{broken");
        assertEquals(401, http.call(servlet).status());
        assertEquals(0, http.bytesRead);
        assertEquals(401, FakeHttp.delete("/routing/routes/r1").call(servlet).status());
        assertEquals(401, FakeHttp.put("/routing/routes/r1", "{}").call(servlet).status());
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "127.1.2.3", "::1", "0:0:0:0:0:0:0:1", "[::1]", "::ffff:127.0.0.1"})
    void shouldAcceptLoopbackWithoutToken(String addr) throws Exception {
        assertEquals(201, FakeHttp.post("/routing/routes", ROUTE).remote(addr).call(servlet).status());
    }

    @ParameterizedTest
    @ValueSource(strings = {"192.0.2.7", "10.0.0.1", "::2", "fe80::1%eth0", "localhost", "", "7f00.1"})
    void shouldRefuseOtherClientsWithoutToken(String addr) throws Exception {
        FakeHttp.Result r = FakeHttp.post("/routing/routes", ROUTE).remote(addr).call(servlet);
        assertEquals(403, r.status());
        assertTrue(r.error().contains("loopback"));
        assertEquals(403, FakeHttp.delete("/routing/routes/r1").remote(addr).call(servlet).status());
        assertTrue(routing.requests.isEmpty());
    }

    @Test
    void shouldLetAnyoneRead() throws Exception {
        node.token = Optional.of("s3cret");
        assertEquals(200, FakeHttp.get("/routing/routes").remote("192.0.2.7").call(servlet).status());
    }

    @Test
    void shouldAnswerHeadWithoutBodyAndOptionsWithAllow() throws Exception {
        FakeHttp.Result r = FakeHttp.method("HEAD", "/routing/routes").call(servlet);
        assertEquals(200, r.status());
        assertEquals(0, r.body().length);
        assertTrue(Integer.parseInt(r.header("Content-Length")) > 0);
        r = FakeHttp.method("OPTIONS", "/routing/routes/x").call(servlet);
        assertEquals(204, r.status());
        assertEquals("GET, HEAD, PUT, DELETE, OPTIONS", r.header("Allow"));
        r = FakeHttp.method("PATCH", "/routing/routes/x").call(servlet);
        assertEquals(405, r.status());
        assertEquals("GET, HEAD, PUT, DELETE, OPTIONS", r.header("Allow"));
        assertTrue(r.error().contains("patch"));
    }

    @Test
    void shouldHideUnexpectedFailuresBehindAGeneric500() throws Exception {
        RoutingServlet broken = new RoutingServlet(node, new Fakes.Routing() {
            @Override
            public List<Route> routes() {
                throw new IllegalStateException("secret internals at Foo.java:12");
            }
        });
        FakeHttp.Result r = FakeHttp.get("/routing/routes").call(broken);
        assertEquals(500, r.status());
        assertFalse(r.text().contains("secret"), r::toString);
        assertFalse(r.text().contains("Exception"), r::toString);
        assertTrue(r.error().contains("internal error"));
    }

    @Test
    void shouldAnswer400NotCrashWhenTheServiceRejectsAField() throws Exception {
        routing.failWith = new IllegalArgumentException("source.device_id: device 1 on this node is not an input");
        FakeHttp.Result r = FakeHttp.post("/routing/routes", ROUTE).call(servlet);
        assertEquals(400, r.status());
        assertEquals("source.device_id: device 1 on this node is not an input", r.json().get("error").asText());
        RouteRequest sent = routing.requests.get(0);
        assertEquals(Fakes.LOCAL_ID, sent.source().orElseThrow().node());
    }
}
