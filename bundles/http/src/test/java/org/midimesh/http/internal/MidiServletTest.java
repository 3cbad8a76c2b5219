package org.midimesh.http.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.midimesh.api.DeviceType;
import org.midimesh.api.driver.Availability;
import org.midimesh.api.NodeId;
import org.midimesh.api.devices.LocalDevice;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.routing.Route;
import org.midimesh.api.routing.RouteEndpoint;

import com.fasterxml.jackson.databind.JsonNode;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class MidiServletTest {

    private Fakes.Node node;
    private Fakes.Registry registry;
    private Fakes.Virtual virtual;
    private Fakes.Routing routing;
    private MidiServlet servlet;

    @BeforeEach
    void setUp() {
        node = new Fakes.Node();
        registry = Fakes.Registry.standard();
        virtual = new Fakes.Virtual(registry);
        routing = new Fakes.Routing();
        servlet = new MidiServlet(node, registry);
        servlet.virtualPorts = virtual;
        servlet.mesh = Fakes.FakeMesh.standard(node);
        servlet.routing = routing;
    }

    @Test
    void shouldListLocalDevicesFirstThenRemoteOnes() throws Exception {
        FakeHttp.Result r = FakeHttp.get("/midi/devices").call(servlet);
        assertEquals(200, r.status(), r::toString);
        assertEquals("application/json", r.header("Content-Type"));
        JsonNode devices = r.json().get("devices");
        assertEquals(5, devices.size());
        JsonNode first = devices.get(0);
        assertEquals(1, first.get("id").asInt());
        assertEquals("alpha In", first.get("name").asText());
        assertEquals("input", first.get("type").asText());
        assertEquals("virtual", first.get("driver").asText());
        assertTrue(first.get("is_local").asBoolean());
        assertEquals(Fakes.LOCAL_ID.toString(), first.get("owner_node").asText());
        assertEquals("alpha", first.get("owner_name").asText());
        assertEquals(Set.of("id", "name", "type", "driver", "is_local", "owner_node", "owner_name", "available"),
                fields(first));
        assertTrue(first.get("available").asBoolean());
        JsonNode output = devices.get(1);
        assertEquals(Set.of("id", "name", "type", "driver", "is_local", "owner_node", "owner_name", "available",
                "dropped", "queued"), fields(output));
        assertEquals("javasound", devices.get(2).get("driver").asText());
        JsonNode remote = devices.get(3);
        assertEquals(Set.of("id", "name", "type", "driver", "is_local", "owner_node", "owner_name"), fields(remote));
        assertFalse(remote.get("is_local").asBoolean());
        assertEquals("remote", remote.get("driver").asText());
        assertEquals(Fakes.PEER_ID.toString(), remote.get("owner_node").asText());
        assertEquals("beta", remote.get("owner_name").asText());
        assertEquals("output", devices.get(4).get("type").asText());
    }

    @Test
    void shouldShowWhyALocalDeviceCannotBeUsedAndWhatItDropped() throws Exception {
        registry.add(new LocalDevice(4, "Gervill", DeviceType.OUTPUT, "javasound"),
                new Fakes.PlainPort("Gervill", DeviceType.OUTPUT) {
                    @Override
                    public Availability availability() {
                        return Availability.unavailable("no audio line");
                    }
                });
        registry.dropped.put(4, 17L);
        JsonNode d = FakeHttp.get("/midi/devices").call(servlet).json().get("devices").get(3);
        assertEquals("Gervill", d.get("name").asText());
        assertFalse(d.get("available").asBoolean());
        assertEquals("no audio line", d.get("unavailable_reason").asText());
        assertEquals(17, d.get("dropped").asLong());
        assertEquals(0, d.get("queued").asInt());
    }

    @Test
    void shouldListOnlyLocalDevicesWithoutMesh() throws Exception {
        servlet.mesh = null;
        assertEquals(3, FakeHttp.get("/midi/devices").call(servlet).json().get("devices").size());
    }

    @Test
    void shouldSendValidMessagesAndAnswer202() throws Exception {
        FakeHttp.Result r = FakeHttp.post("/midi/devices/2/send",
                "{\"messages\": [\"90 3c 64\", \"803C00\", \"f0 7e 7f 06 01 f7\"]}").call(servlet);
        assertEquals(202, r.status(), r::toString);
        assertEquals(3, r.json().get("accepted").asInt());
        assertEquals(List.of(List.of(MidiMessage.parseHex("903c64"), MidiMessage.parseHex("803c00"),
                MidiMessage.parseHex("f07e7f0601f7"))), registry.sent);
    }

    @Test
    void shouldRejectTheWholeBatchWhenMessageThreeIsInvalid() throws Exception {
        FakeHttp.Result r = FakeHttp.post("/midi/devices/2/send",
                "{\"messages\": [\"90 3c 64\", \"80 3c 00\", \"b0 07 7f\", \"90 3c 80\", \"90 3c 64\"]}")
                .call(servlet);
        assertEquals(400, r.status());
        assertEquals("messages[3]: data byte 2 is 80, above 7f", r.json().get("error").asText());
        assertTrue(registry.sent.isEmpty(), "nothing may be sent");
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"3c 64\"", "\"90 3c\"", "\"f0 7e 7f\"", "\"zz\"", "\"\"", "null", "12"})
    void shouldNameTheIndexOfAnInvalidMessage(String bad) throws Exception {
        FakeHttp.Result r = FakeHttp.post("/midi/devices/1/send", "{\"messages\": [\"90 3c 64\", " + bad + "]}")
                .call(servlet);
        assertEquals(400, r.status(), r::toString);
        assertTrue(r.error().startsWith("messages[1]"), r::toString);
        assertTrue(registry.sent.isEmpty());
    }

    @Test
    void shouldRejectEmptyMissingOrTooManyMessages() throws Exception {
        assertEquals(400, FakeHttp.post("/midi/devices/1/send", "{\"messages\": []}").call(servlet).status());
        assertTrue(FakeHttp.post("/midi/devices/1/send", "{}").call(servlet).error().contains("messages is missing"));
        String many = IntStream.range(0, MidiServlet.MAX_MESSAGES + 1).mapToObj(i -> "\"f8\"")
                .collect(Collectors.joining(",", "{\"messages\":[", "]}"));
        FakeHttp.Result r = FakeHttp.post("/midi/devices/1/send", many).call(servlet);
        assertEquals(400, r.status());
        assertTrue(r.error().contains("1..10000"), r::toString);
        String max = IntStream.range(0, MidiServlet.MAX_MESSAGES).mapToObj(i -> "\"f8\"")
                .collect(Collectors.joining(",", "{\"messages\":[", "]}"));
        assertEquals(202, FakeHttp.post("/midi/devices/1/send", max).call(servlet).status());
    }

    @Test
    void shouldAnswer404ForUnknownOrRemoteDeviceIds() throws Exception {
        FakeHttp.Result r = FakeHttp.post("/midi/devices/99/send", "{\"messages\": [\"f8\"]}").call(servlet);
        assertEquals(404, r.status());
        assertTrue(r.error().contains("99"));
        assertTrue(registry.sent.isEmpty());
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "0", "65536", "-1", "1.5", "999999999999"})
    void shouldAnswer400NamingIdForMalformedIds(String id) throws Exception {
        FakeHttp.Result r = FakeHttp.post("/midi/devices/" + id + "/send", "{\"messages\": [\"f8\"]}").call(servlet);
        assertEquals(400, r.status());
        assertTrue(r.error().startsWith("id "), r::toString);
        assertEquals(400, FakeHttp.get("/midi/devices/" + id + "/received").call(servlet).status());
        assertEquals(400, FakeHttp.delete("/midi/virtual-ports/" + id).call(servlet).status());
    }

    @Test
    void shouldRejectStringsForArraysAndUnknownFields() throws Exception {
        FakeHttp.Result r = FakeHttp.post("/midi/devices/1/send", "{\"messages\": \"90 3c 64\"}").call(servlet);
        assertEquals(400, r.status());
        assertEquals("messages: expected an array", r.json().get("error").asText());
        r = FakeHttp.post("/midi/devices/1/send", "{\"messages\": [\"f8\"], \"force\": true}").call(servlet);
        assertEquals(400, r.status());
        assertTrue(r.error().startsWith("force: unknown field"), r::toString);
        assertTrue(registry.sent.isEmpty());
    }

    @Test
    void shouldPageReceivedMessages() throws Exception {
        registry.send(2, List.of(MidiMessage.parseHex("903c64"), MidiMessage.parseHex("803c00"),
                MidiMessage.parseHex("f8")));
        FakeHttp.Result r = FakeHttp.get("/midi/devices/2/received").call(servlet);
        assertEquals(200, r.status(), r::toString);
        JsonNode j = r.json();
        assertEquals(2, j.get("device_id").asInt());
        assertEquals(3, j.get("total").asLong());
        assertEquals(3, j.get("next").asLong());
        assertEquals(3, j.get("messages").size());
        JsonNode m = j.get("messages").get(0);
        assertEquals(Set.of("seq", "data", "received_at_us", "source_node"), fields(m));
        assertEquals(1, m.get("seq").asLong());
        assertEquals("903c64", m.get("data").asText());
        assertEquals(Fakes.LOCAL_ID.toString(), m.get("source_node").asText());

        j = FakeHttp.get("/midi/devices/2/received?after=1&limit=1").call(servlet).json();
        assertEquals(1, j.get("messages").size());
        assertEquals("803c00", j.get("messages").get(0).get("data").asText());
        assertEquals(2, j.get("next").asLong());
    }

    @ParameterizedTest
    @ValueSource(strings = {"after=-1", "after=x", "after=", "limit=0", "limit=65537", "limit=1e3", "limit="})
    void shouldAnswer400NamingTheBadQueryParameter(String query) throws Exception {
        FakeHttp.Result r = FakeHttp.get("/midi/devices/2/received?" + query).call(servlet);
        assertEquals(400, r.status());
        assertTrue(r.error().startsWith(query.substring(0, query.indexOf('='))), r::toString);
    }

    @Test
    void shouldAcceptTheLargestLimit() throws Exception {
        assertEquals(200, FakeHttp.get("/midi/devices/2/received?limit=65536").call(servlet).status());
    }

    @Test
    void shouldRefuseReceivedForInputsAndPortsWithoutLog() throws Exception {
        FakeHttp.Result r = FakeHttp.get("/midi/devices/1/received").call(servlet);
        assertEquals(400, r.status());
        assertTrue(r.error().contains("device 1 is an input"), r::toString);
        r = FakeHttp.get("/midi/devices/3/received").call(servlet);
        assertEquals(404, r.status());
        assertTrue(r.error().contains("only virtual outputs"), r::toString);
        assertEquals(404, FakeHttp.get("/midi/devices/77/received").call(servlet).status());
    }

    @Test
    void shouldCreateVirtualPortAndAnswer201WithTheDevice() throws Exception {
        FakeHttp.Result r = FakeHttp.post("/midi/virtual-ports", "{\"name\": \"Pad\", \"type\": \"output\"}")
                .call(servlet);
        assertEquals(201, r.status(), r::toString);
        JsonNode d = r.json();
        assertEquals(4, d.get("id").asInt());
        assertEquals("Pad", d.get("name").asText());
        assertEquals("output", d.get("type").asText());
        assertEquals("virtual", d.get("driver").asText());
        assertTrue(d.get("is_local").asBoolean());
        assertTrue(virtual.find("Pad", DeviceType.OUTPUT).isPresent());
    }

    @Test
    void shouldAnswer409WhenTheVirtualPortExists() throws Exception {
        FakeHttp.Result r = FakeHttp.post("/midi/virtual-ports", "{\"name\": \"alpha Out\", \"type\": \"output\"}")
                .call(servlet);
        assertEquals(409, r.status());
        assertEquals(3, registry.devices.size());
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"type\": \"output\"}", "{\"name\": \"X\"}", "{\"name\": \"X\", \"type\": \"both\"}",
        "{\"name\": \"  \", \"type\": \"input\"}", "{\"name\": 5, \"type\": \"input\"}",
        "{\"name\": \"X\", \"type\": \"input\", \"id\": 9}", "{\"name\": \"a\\nb\", \"type\": \"input\"}"})
    void shouldRejectInvalidVirtualPortBodies(String body) throws Exception {
        FakeHttp.Result r = FakeHttp.post("/midi/virtual-ports", body).call(servlet);
        assertEquals(400, r.status(), r::toString);
        assertEquals(3, registry.devices.size());
    }

    @Test
    void shouldDeleteVirtualPortAndReportOrphanedRoutes() throws Exception {
        virtual.create("Pad", DeviceType.OUTPUT);
        RouteEndpoint in = new RouteEndpoint(Fakes.LOCAL_ID, 1);
        routing.add(new Route("ra", true, 100, in, new RouteEndpoint(Fakes.LOCAL_ID, 4), 0, Set.of(), 0, 0, false, ""));
        routing.add(new Route("rb", true, 100, in, new RouteEndpoint(Fakes.LOCAL_ID, 2), 0, Set.of(), 0, 0, false, ""));
        routing.add(new Route("rc", true, 100, in, new RouteEndpoint(Fakes.PEER_ID, 4), 0, Set.of(), 0, 0, false, ""));
        FakeHttp.Result r = FakeHttp.delete("/midi/virtual-ports/4").call(servlet);
        assertEquals(200, r.status(), r::toString);
        assertEquals(4, r.json().get("deleted").asInt());
        assertEquals("[\"ra\"]", r.json().get("orphaned_routes").toString());
        assertEquals(List.of("Pad"), virtual.deleted);
        assertEquals(3, routing.routes.size(), "routes are kept, not deleted");
    }

    @Test
    void shouldRefuseToDeleteDefaultOrNonVirtualOrUnknownPorts() throws Exception {
        FakeHttp.Result r = FakeHttp.delete("/midi/virtual-ports/2").call(servlet);
        assertEquals(409, r.status());
        assertTrue(r.error().contains("default port"), r::toString);
        r = FakeHttp.delete("/midi/virtual-ports/3").call(servlet);
        assertEquals(404, r.status());
        assertTrue(r.error().contains("not a virtual port"), r::toString);
        assertEquals(404, FakeHttp.delete("/midi/virtual-ports/40").call(servlet).status());
        assertTrue(virtual.deleted.isEmpty());
    }

    @Test
    void shouldAnswer503ForVirtualPortsWithoutTheDriver() throws Exception {
        servlet.virtualPorts = null;
        FakeHttp.Result r = FakeHttp.post("/midi/virtual-ports", "{\"name\": \"P\", \"type\": \"input\"}")
                .call(servlet);
        assertEquals(503, r.status());
        assertEquals(503, FakeHttp.delete("/midi/virtual-ports/1").call(servlet).status());
    }

    @Test
    void shouldNotDeleteWithoutRoutingToReportOrphans() throws Exception {
        virtual.create("Pad", DeviceType.OUTPUT);
        servlet.routing = null;
        assertEquals(503, FakeHttp.delete("/midi/virtual-ports/4").call(servlet).status());
        assertTrue(virtual.deleted.isEmpty());
    }

    @Test
    void shouldAnswer404ForUnknownPathsAnd405ForWrongMethods() throws Exception {
        assertEquals(404, FakeHttp.get("/midi/nothing").call(servlet).status());
        assertEquals(404, FakeHttp.get("/midi").call(servlet).status());
        assertEquals(404, FakeHttp.get("/midi/devices/").call(servlet).status());
        assertEquals(404, FakeHttp.get("/midi/devices/1/send/x").call(servlet).status());
        FakeHttp.Result r = FakeHttp.delete("/midi/devices").call(servlet);
        assertEquals(405, r.status());
        assertEquals("GET, HEAD, OPTIONS", r.header("Allow"));
        r = FakeHttp.get("/midi/devices/1/send").call(servlet);
        assertEquals(405, r.status());
        assertEquals("POST, OPTIONS", r.header("Allow"));
        r = FakeHttp.get("/midi/virtual-ports/5").call(servlet);
        assertEquals(405, r.status());
        assertEquals("DELETE, OPTIONS", r.header("Allow"));
    }

    @Test
    void shouldKeepAnUnknownDeviceIdAfterTheDeviceIsGone() throws Exception {
        registry.devices.put(9, new LocalDevice(9, "gone", DeviceType.OUTPUT, "virtual"));
        FakeHttp.Result r = FakeHttp.get("/midi/devices/9/received").call(servlet);
        assertEquals(404, r.status(), "a device without port has no log");
        assertEquals(NodeId.class, Fakes.LOCAL_ID.getClass());
    }

    static Set<String> fields(JsonNode n) {
        Set<String> s = new java.util.TreeSet<>();
        n.fieldNames().forEachRemaining(s::add);
        return s;
    }
}
