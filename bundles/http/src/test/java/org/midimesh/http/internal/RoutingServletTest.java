package org.midimesh.http.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.midimesh.api.midi.MessageType;
import org.midimesh.api.routing.Route;
import org.midimesh.api.routing.RouteEndpoint;
import org.midimesh.api.routing.RouteRequest;

import com.fasterxml.jackson.databind.JsonNode;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RoutingServletTest {

    private Fakes.Node node;
    private Fakes.Routing routing;
    private RoutingServlet servlet;

    @BeforeEach
    void setUp() {
        node = new Fakes.Node();
        routing = new Fakes.Routing();
        servlet = new RoutingServlet(node, routing);
        routing.add(new Route("r1", true, 100, new RouteEndpoint(Fakes.LOCAL_ID, 1),
                new RouteEndpoint(Fakes.PEER_ID, 2), 0, Set.of(), 12, 3, false, ""));
        routing.add(new Route("r2", false, 50, new RouteEndpoint(Fakes.PEER_ID, 1),
                new RouteEndpoint(Fakes.LOCAL_ID, 2), 10, EnumSet.of(MessageType.NOTE_ON, MessageType.NOTE_OFF), 0,
                0, true, "gone"));
    }

    @Test
    void shouldListRoutesWithCounts() throws Exception {
        JsonNode j = FakeHttp.get("/routing/routes").call(servlet).json();
        assertEquals(2, j.get("total").asInt());
        assertEquals(1, j.get("enabled").asInt());
        assertEquals(1, j.get("disabled").asInt());
        JsonNode r1 = j.get("routes").get(0);
        assertEquals(Set.of("route_id", "enabled", "priority", "source", "destination", "channel_filter",
                "orphaned", "statistics"), MidiServletTest.fields(r1), "message_types is absent when all pass");
        assertEquals("r1", r1.get("route_id").asText());
        assertEquals(Fakes.LOCAL_ID.toString(), r1.get("source").get("node_id").asText());
        assertEquals(1, r1.get("source").get("device_id").asInt());
        assertEquals(Fakes.PEER_ID.toString(), r1.get("destination").get("node_id").asText());
        assertEquals(12, r1.get("statistics").get("messages_forwarded").asLong());
        assertEquals(3, r1.get("statistics").get("messages_dropped").asLong());
        JsonNode r2 = j.get("routes").get(1);
        assertEquals("[\"note_off\",\"note_on\"]", r2.get("message_types").toString());
        assertEquals(10, r2.get("channel_filter").asInt());
        assertTrue(r2.get("orphaned").asBoolean());
        assertFalse(r2.get("enabled").asBoolean());
    }

    @Test
    void shouldCreateARouteFromAllFields() throws Exception {
        FakeHttp.Result r = FakeHttp.post("/routing/routes", "{\"source\": {\"node_id\": \"local\", \"device_id\": 1},"
                + " \"destination\": {\"node_id\": \"22222222222222222222222222222222\", \"device_id\": 2},"
                + " \"enabled\": false, \"priority\": 7, \"channel_filter\": 3,"
                + " \"message_types\": [\"control_change\", \"pitch_bend\"]}").call(servlet);
        assertEquals(201, r.status(), r::toString);
        RouteRequest req = routing.requests.get(0);
        assertEquals(new RouteEndpoint(Fakes.LOCAL_ID, 1), req.source().orElseThrow());
        assertEquals(new RouteEndpoint(Fakes.PEER_ID, 2), req.destination().orElseThrow());
        assertEquals(Optional.of(false), req.enabled());
        assertEquals(Optional.of(7), req.priority());
        assertEquals(Optional.of(3), req.channelFilter());
        assertEquals(Optional.of(EnumSet.of(MessageType.CONTROL_CHANGE, MessageType.PITCH_BEND)),
                req.messageTypes());
        JsonNode j = r.json();
        assertEquals("r1", j.get("route_id").asText().substring(0, 2));
        assertEquals(Fakes.PEER_ID.toString(), j.get("destination").get("node_id").asText());
        assertEquals(7, j.get("priority").asInt());
    }

    @Test
    void shouldLeaveOptionalFieldsToTheService() throws Exception {
        FakeHttp.Result r = FakeHttp.post("/routing/routes", "{\"source\": {\"node_id\": \"local\", \"device_id\": 1},"
                + " \"destination\": {\"node_id\": \"" + Fakes.PEER_ID + "\", \"device_id\": 2}}").call(servlet);
        assertEquals(201, r.status(), r::toString);
        RouteRequest req = routing.requests.get(0);
        assertEquals(Optional.empty(), req.enabled());
        assertEquals(Optional.empty(), req.priority());
        assertEquals(Optional.empty(), req.channelFilter());
        assertEquals(Optional.empty(), req.messageTypes());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"destination\": {\"node_id\": \"local\", \"device_id\": 2}}                  | source is missing",
        "{\"source\": {\"node_id\": \"local\", \"device_id\": 1}}                       | destination is missing",
        "{\"source\": {\"device_id\": 1}, \"destination\": {\"node_id\": \"local\", \"device_id\": 2}} "
            + "| source.node_id is missing",
        "{\"source\": {\"node_id\": \"here\", \"device_id\": 1}, \"destination\": {\"node_id\": \"local\", "
            + "\"device_id\": 2}} | source.node_id must be",
        "{\"source\": {\"node_id\": \"local\", \"device_id\": 0}, \"destination\": {\"node_id\": \"local\", "
            + "\"device_id\": 2}} | source.device_id must be 1..65535",
        "{\"source\": {\"node_id\": \"local\", \"device_id\": 1}, \"destination\": {\"node_id\": \"local\"}} "
            + "| destination.device_id is missing",
        "{\"source\": {\"node_id\": \"local\", \"device_id\": 1}, \"destination\": {\"node_id\": \"local\", "
            + "\"device_id\": 2}, \"message_types\": [\"note_on\", \"noteon\"]} | message_types[1] must be one of",
    })
    void shouldNameTheInvalidField(String body, String message) throws Exception {
        FakeHttp.Result r = FakeHttp.post("/routing/routes", body).call(servlet);
        assertEquals(400, r.status(), r::toString);
        assertTrue(r.json().get("error").asText().startsWith(message), r::toString);
        assertTrue(routing.requests.isEmpty());
    }

    @Test
    void shouldGetOneRouteOr404() throws Exception {
        assertEquals("r2", FakeHttp.get("/routing/routes/r2").call(servlet).json().get("route_id").asText());
        FakeHttp.Result r = FakeHttp.get("/routing/routes/nope").call(servlet);
        assertEquals(404, r.status());
        assertTrue(r.error().contains("nope"));
        assertEquals(404, FakeHttp.get("/routing/routes/" + "x".repeat(500)).call(servlet).status());
    }

    @Test
    void shouldUpdateOnlyTheGivenFields() throws Exception {
        FakeHttp.Result r = FakeHttp.put("/routing/routes/r1", "{\"enabled\": false, \"message_types\": [\"system\"]}")
                .call(servlet);
        assertEquals(200, r.status(), r::toString);
        RouteRequest req = routing.requests.get(0);
        assertEquals(Optional.empty(), req.source());
        assertEquals(Optional.of(false), req.enabled());
        assertEquals(Optional.empty(), req.priority());
        assertEquals(Optional.of(Set.of(MessageType.SYSTEM)), req.messageTypes());
        assertFalse(r.json().get("enabled").asBoolean());
        assertEquals(100, r.json().get("priority").asInt());
    }

    @Test
    void shouldRefuseToChangeOtherFieldsNamingThem() throws Exception {
        FakeHttp.Result r = FakeHttp.put("/routing/routes/r1",
                "{\"source\": {\"node_id\": \"local\", \"device_id\": 5}}").call(servlet);
        assertEquals(400, r.status());
        assertEquals("source: unknown field (allowed: channel_filter, enabled, message_types, priority)",
                r.json().get("error").asText());
        r = FakeHttp.put("/routing/routes/r1", "{\"route_id\": \"r9\"}").call(servlet);
        assertTrue(r.json().get("error").asText().startsWith("route_id: unknown field"));
        assertTrue(routing.requests.isEmpty());
    }

    @Test
    void shouldAnswer404ForUpdatingAnUnknownRouteAnd400ForInvalidValues() throws Exception {
        assertEquals(404, FakeHttp.put("/routing/routes/r9", "{\"priority\": 1}").call(servlet).status());
        routing.failWith = new IllegalArgumentException("channel_filter must be 0..16, not 17");
        FakeHttp.Result r = FakeHttp.put("/routing/routes/r1", "{\"channel_filter\": 17}").call(servlet);
        assertEquals(400, r.status());
        assertEquals("channel_filter must be 0..16, not 17", r.json().get("error").asText());
    }

    @Test
    void shouldDeleteOr404() throws Exception {
        FakeHttp.Result r = FakeHttp.delete("/routing/routes/r1").call(servlet);
        assertEquals(200, r.status());
        assertEquals("r1", r.json().get("deleted").asText());
        assertFalse(routing.routes.containsKey("r1"));
        assertEquals(404, FakeHttp.delete("/routing/routes/r1").call(servlet).status());
    }

    @Test
    void shouldAnswer404And405OnTheRoutingArea() throws Exception {
        assertEquals(404, FakeHttp.get("/routing/table").call(servlet).status());
        assertEquals(404, FakeHttp.get("/routing/routes/r1/stats").call(servlet).status());
        FakeHttp.Result r = FakeHttp.delete("/routing/routes").call(servlet);
        assertEquals(405, r.status());
        assertEquals("GET, HEAD, POST, OPTIONS", r.header("Allow"));
    }
}
