package org.midimesh.http.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.midimesh.api.DeviceType;
import org.midimesh.api.connection.Handshake;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class NetworkServletTest {

    static final String HANDSHAKE = "{\"node_id\": \"" + Fakes.PEER_ID + "\", \"node_name\": \"beta\","
            + " \"version\": \"0.1.0\", \"http_port\": 8474, \"udp_port\": 8475, \"tcp_port\": 8476,"
            + " \"hostname\": \"beta.local\", \"devices\": [{\"id\": 1, \"name\": \"beta In\", \"type\": \"input\"},"
            + " {\"id\": 2, \"name\": \"beta Out\", \"type\": \"output\"}]}";

    private Fakes.Node node;
    private Fakes.FakeMesh mesh;
    private NetworkServlet servlet;
    private Fakes.Control control;

    @BeforeEach
    void setUp() {
        node = new Fakes.Node();
        mesh = Fakes.FakeMesh.standard(node);
        servlet = new NetworkServlet(node, mesh, Fakes.Registry.standard(), new Fakes.Transport());
        servlet.routing = new Fakes.Routing();
        control = new Fakes.Control();
        servlet.strategyControl = control;
    }

    private static String strategyPath(Object uuid) {
        return "/network/connections/" + uuid + "/strategy";
    }

    @Test
    void shouldDescribeTheMeshSkippingConnectionsWithoutPeerId() throws Exception {
        FakeHttp.Result r = FakeHttp.get("/network/mesh").call(servlet);
        assertEquals(200, r.status(), r::toString);
        JsonNode j = r.json();
        assertEquals(Fakes.LOCAL_ID.toString(), j.get("node").get("uuid").asText());
        assertEquals("alpha", j.get("node").get("name").asText());
        assertEquals(1, j.get("connected_nodes").asInt());
        assertEquals(1, j.get("total_nodes").asInt());
        assertEquals(5, j.get("total_devices").asInt());
        JsonNode beta = j.get("nodes").get(0);
        assertEquals(Set.of("uuid", "name", "ip", "http_port", "udp_port", "tcp_port", "state", "strategy", "devices",
                "last_heartbeat_ms_ago", "rtt_us"), MidiServletTest.fields(beta));
        assertEquals(Fakes.PEER_ID.toString(), beta.get("uuid").asText());
        assertEquals("beta", beta.get("name").asText());
        assertEquals("10.0.0.2", beta.get("ip").asText());
        assertEquals(8474, beta.get("http_port").asInt());
        assertEquals("connected", beta.get("state").asText());
        assertEquals("mutex", beta.get("strategy").asText());
        assertEquals(2, beta.get("devices").asInt());
        assertEquals(120, beta.get("last_heartbeat_ms_ago").asLong());
        assertEquals(350, beta.get("rtt_us").asLong());
    }

    @Test
    void shouldShowNullForUnknownHeartbeatAndRoundTrip() throws Exception {
        Fakes.Connection c = (Fakes.Connection) mesh.connections.get(0);
        c.sinceHeartbeat = Long.MAX_VALUE;
        c.state = org.midimesh.api.connection.ConnectionState.FAILED;
        mesh.rtt.clear();
        JsonNode j = FakeHttp.get("/network/mesh").call(servlet).json();
        JsonNode beta = j.get("nodes").get(0);
        assertTrue(beta.get("last_heartbeat_ms_ago").isNull());
        assertTrue(beta.get("rtt_us").isNull());
        assertEquals("failed", beta.get("state").asText());
        assertEquals(0, j.get("connected_nodes").asInt());
        assertEquals(3, j.get("total_devices").asInt());
    }

    @Test
    void shouldAcceptAHandshakeFromAnyClientAndReplyWithOurs() throws Exception {
        node.token = Optional.of("s3cret");
        FakeHttp.Result r = FakeHttp.post("/network/handshake", HANDSHAKE).remote("10.0.0.2").call(servlet);
        assertEquals(200, r.status(), r::toString);
        Handshake got = mesh.accepted.get(0);
        assertEquals(Fakes.PEER_ID, got.node().id());
        assertEquals("10.0.0.2", got.node().address());
        assertEquals("beta.local", got.node().hostname());
        assertEquals(8476, got.node().tcpPort());
        assertEquals(DeviceType.OUTPUT, got.devices().get(1).type());
        assertEquals(List.of("10.0.0.2"), mesh.acceptedFrom);
        JsonNode j = r.json();
        assertEquals(Set.of("node_id", "node_name", "version", "http_port", "udp_port", "tcp_port", "hostname",
                "devices"), MidiServletTest.fields(j));
        assertEquals(Fakes.LOCAL_ID.toString(), j.get("node_id").asText());
        assertEquals("alpha", j.get("node_name").asText());
        assertEquals(7475, j.get("udp_port").asInt());
        assertEquals("{\"id\":2,\"name\":\"alpha Out\",\"type\":\"output\"}", j.get("devices").get(1).toString());
    }

    @Test
    void shouldUnbracketAnIpv6PeerAddress() throws Exception {
        assertEquals(200, FakeHttp.post("/network/handshake", HANDSHAKE).remote("[fe80::2]").call(servlet).status());
        assertEquals("fe80::2", mesh.accepted.get(0).node().address());
    }

    @ParameterizedTest
    @ValueSource(strings = {"node_id", "node_name", "version", "http_port", "udp_port", "tcp_port", "devices"})
    void shouldRejectAHandshakeWithAMissingField(String field) throws Exception {
        ObjectNode json = (ObjectNode) new ObjectMapper().readTree(HANDSHAKE);
        json.remove(field);
        FakeHttp.Result r = FakeHttp.post("/network/handshake", json.toString()).call(servlet);
        assertEquals(400, r.status(), r::toString);
        assertEquals(field + " is missing", r.json().get("error").asText());
        assertTrue(mesh.accepted.isEmpty());
    }

    @Test
    void shouldAcceptAHandshakeWithoutHostname() throws Exception {
        ObjectNode json = (ObjectNode) new ObjectMapper().readTree(HANDSHAKE);
        json.remove("hostname");
        assertEquals(200, FakeHttp.post("/network/handshake", json.toString()).call(servlet).status());
    }

    @Test
    void shouldRejectAHandshakeFromOurselves() throws Exception {
        FakeHttp.Result r = FakeHttp.post("/network/handshake",
                HANDSHAKE.replace(Fakes.PEER_ID.toString(), Fakes.LOCAL_ID.toString())).call(servlet);
        assertEquals(400, r.status());
        assertTrue(r.error().contains("node_id"));
        assertTrue(mesh.accepted.isEmpty());
    }

    @Test
    void shouldRejectAHandshakeWithAStringPortOrABadDeviceType() throws Exception {
        FakeHttp.Result r = FakeHttp.post("/network/handshake", HANDSHAKE.replace("8475", "\"8475\"")).call(servlet);
        assertEquals(400, r.status());
        assertEquals("udp_port: expected an integer", r.json().get("error").asText());
        r = FakeHttp.post("/network/handshake", HANDSHAKE.replace("\"type\": \"output\"", "\"type\": \"out\""))
                .call(servlet);
        assertEquals("devices[1].type must be \"input\" or \"output\"", r.json().get("error").asText());
        assertTrue(mesh.accepted.isEmpty());
    }

    @Test
    void shouldIgnoreUnknownHandshakeFieldsSoNewerPeersCanAddSome() throws Exception {
        FakeHttp.Result r = FakeHttp.post("/network/handshake",
                HANDSHAKE.replace("\"hostname\"", "\"added_later\": 1, \"hostname\"")).call(servlet);
        assertEquals(200, r.status());
        assertEquals(1, mesh.accepted.size());
    }

    @Test
    void shouldListPeers() throws Exception {
        JsonNode peers = FakeHttp.get("/network/peers").call(servlet).json().get("peers");
        assertEquals(2, peers.size());
        assertEquals("{\"address\":\"10.0.0.2:8474\",\"source\":\"static\",\"node_id\":\"" + Fakes.PEER_ID
                + "\",\"state\":\"connected\"}", peers.get(0).toString());
        assertEquals("{\"address\":\"[fe80::1]:7474\",\"source\":\"discovered\",\"node_id\":null,\"state\":null}",
                peers.get(1).toString());
    }

    @Test
    void shouldAddAPeer() throws Exception {
        FakeHttp.Result r = FakeHttp.post("/network/peers", "{\"address\": \"beta.local:8474\"}").call(servlet);
        assertEquals(202, r.status());
        assertEquals("beta.local:8474", r.json().get("address").asText());
        assertEquals(List.of("beta.local 8474 API"), mesh.added);
    }

    @ParameterizedTest
    @ValueSource(strings = {"beta.local", "beta.local:", ":8474", "beta.local:0", "beta.local:65536",
        "beta.local:http", "::1:7474", "bad host:1", "[]:1", ""})
    void shouldRejectInvalidPeerAddresses(String address) throws Exception {
        FakeHttp.Result r = FakeHttp.post("/network/peers", "{\"address\": \"" + address + "\"}").call(servlet);
        assertEquals(400, r.status(), r::toString);
        assertTrue(r.error().contains("address"), r::toString);
        assertTrue(mesh.added.isEmpty());
    }

    @Test
    void shouldGuardPeerChangesButNotTheHandshake() throws Exception {
        assertEquals(403, FakeHttp.post("/network/peers", "{\"address\": \"b:1\"}").remote("10.0.0.9").call(servlet)
                .status());
        assertEquals(403, FakeHttp.delete("/network/peers/" + Fakes.PEER_ID).remote("10.0.0.9").call(servlet)
                .status());
        assertEquals(200, FakeHttp.post("/network/handshake", HANDSHAKE).remote("10.0.0.9").call(servlet).status());
        assertTrue(mesh.added.isEmpty());
        assertTrue(mesh.forgotten.isEmpty());
    }

    @Test
    void shouldForgetAPeerOr404Or400() throws Exception {
        FakeHttp.Result r = FakeHttp.delete("/network/peers/" + Fakes.PEER_ID.toString().replace("-", ""))
                .call(servlet);
        assertEquals(200, r.status(), r::toString);
        assertEquals(Fakes.PEER_ID.toString(), r.json().get("forgotten").asText());
        assertEquals(List.of(Fakes.PEER_ID), mesh.forgotten);
        assertEquals(404, FakeHttp.delete("/network/peers/33333333-3333-3333-3333-333333333333").call(servlet)
                .status());
        r = FakeHttp.delete("/network/peers/not-a-uuid").call(servlet);
        assertEquals(400, r.status());
        assertTrue(r.error().startsWith("uuid"));
    }

    @Test
    void shouldReportStats() throws Exception {
        JsonNode j = FakeHttp.get("/network/stats").call(servlet).json();
        assertEquals("{\"datagrams_in\":100,\"datagrams_out\":90,\"bytes_in\":5000,\"bytes_out\":4000,"
                + "\"malformed\":3,\"realtime_drops\":1,\"reliable_retries\":2}", j.get("total").toString());
        assertEquals(100, j.get("peers").get(Fakes.PEER_ID.toString()).get("datagrams_in").asLong());
        assertEquals("{\"messages_forwarded\":10,\"messages_dropped\":2,\"loops_detected\":1}",
                j.get("routing").toString());
        servlet.routing = null;
        assertEquals(503, FakeHttp.get("/network/stats").call(servlet).status());
    }

    @Test
    void shouldPinAConnectionToAStrategy() throws Exception {
        FakeHttp.Result r = FakeHttp.put(strategyPath(Fakes.PEER_ID), "{\"strategy\": \"seda\"}").call(servlet);
        assertEquals(200, r.status(), r::toString);
        assertEquals("{\"migrated\":2,\"took_ms\":15,\"failures\":[]}", r.json().toString());
        assertEquals(List.of("pin " + Fakes.PEER_ID + " seda"), control.pinCalls);
        r = FakeHttp.put(strategyPath(Fakes.PEER_ID.toString().replace("-", "").toUpperCase()),
                "{\"strategy\": \"mutex\"}").call(servlet);
        assertEquals(200, r.status(), "32 hex digits are accepted: " + r);
        assertEquals("mutex", control.pins.get(Fakes.PEER_ID));
    }

    @Test
    void shouldUnpinWithNullOrDelete() throws Exception {
        control.pins.put(Fakes.PEER_ID, "seda");
        FakeHttp.Result r = FakeHttp.put(strategyPath(Fakes.PEER_ID), "{\"strategy\": null}").call(servlet);
        assertEquals(200, r.status(), r::toString);
        assertEquals("{\"migrated\":2,\"took_ms\":15,\"failures\":[]}", r.json().toString());
        r = FakeHttp.delete(strategyPath(Fakes.PEER_ID.toString().replace("-", ""))).call(servlet);
        assertEquals(200, r.status(), r::toString);
        assertEquals(List.of("unpin " + Fakes.PEER_ID, "unpin " + Fakes.PEER_ID), control.pinCalls);
        assertTrue(control.pins.isEmpty());
    }

    @Test
    void shouldAnswer404ForAPeerWithoutConnection() throws Exception {
        String other = "33333333-3333-3333-3333-333333333333";
        FakeHttp.Result r = FakeHttp.put(strategyPath(other), "{\"strategy\": \"seda\"}").call(servlet);
        assertEquals(404, r.status(), r::toString);
        assertEquals("no connection to node " + other, r.json().get("error").asText());
        r = FakeHttp.delete(strategyPath(other)).call(servlet);
        assertEquals(404, r.status(), r::toString);
        assertTrue(r.error().contains("neither a pin nor a connection"), r::toString);
        assertEquals(404, FakeHttp.put(strategyPath(other), "{\"strategy\": null}").call(servlet).status());
        assertTrue(control.pinCalls.isEmpty());
    }

    @Test
    void shouldRejectAnUnknownStrategyNamingTheField() throws Exception {
        FakeHttp.Result r = FakeHttp.put(strategyPath(Fakes.PEER_ID), "{\"strategy\": \"pool\"}").call(servlet);
        assertEquals(400, r.status(), r::toString);
        assertEquals("strategy: no strategy named pool is available", r.json().get("error").asText());
        assertTrue(control.pins.isEmpty());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{}                                    | strategy is missing (a strategy name, or null to remove the pin)",
        "{\"strategy\": 5}                     | strategy: expected a string",
        "{\"strategy\": {\"name\": \"seda\"}} | strategy: expected a string",
        "{\"strategy\": \"seda\", \"now\": true} | now: unknown field (allowed: strategy)",
        "[\"seda\"]                            | request body must be a JSON object",
    })
    void shouldNameTheFieldOfAnInvalidPin(String body, String message) throws Exception {
        FakeHttp.Result r = FakeHttp.put(strategyPath(Fakes.PEER_ID), body).call(servlet);
        assertEquals(400, r.status(), r::toString);
        assertEquals(message, r.json().get("error").asText());
        assertTrue(control.pinCalls.isEmpty());
    }

    @Test
    void shouldRejectMalformedPinRequests() throws Exception {
        FakeHttp.Result r = FakeHttp.put(strategyPath(Fakes.PEER_ID), "{\"strategy\": ").call(servlet);
        assertEquals(400, r.status(), r::toString);
        assertTrue(r.error().startsWith("malformed json"), r::toString);
        r = FakeHttp.put(strategyPath(Fakes.PEER_ID), "").call(servlet);
        assertEquals(400, r.status(), r::toString);
        for (String uuid : List.of("local", "not-a-uuid", "2222222222222222222222222222222")) {
            r = FakeHttp.put(strategyPath(uuid), "{\"strategy\": \"seda\"}").call(servlet);
            assertEquals(400, r.status(), r::toString);
            assertTrue(r.error().startsWith("uuid must be a node id"), r::toString);
            assertEquals(400, FakeHttp.delete(strategyPath(uuid)).call(servlet).status());
        }
        r = FakeHttp.put(strategyPath(Fakes.PEER_ID), "{\"strategy\": \"seda\"}").header("Content-Type", "text/plain")
                .call(servlet);
        assertEquals(415, r.status(), r::toString);
        assertTrue(control.pinCalls.isEmpty());
    }

    @Test
    void shouldGuardPinning() throws Exception {
        assertEquals(403, FakeHttp.put(strategyPath(Fakes.PEER_ID), "{\"strategy\": \"seda\"}").remote("10.0.0.9")
                .call(servlet).status());
        assertEquals(403, FakeHttp.delete(strategyPath(Fakes.PEER_ID)).remote("10.0.0.9").call(servlet).status());
        node.token = Optional.of("s3cret");
        assertEquals(401, FakeHttp.delete(strategyPath(Fakes.PEER_ID)).call(servlet).status());
        assertTrue(control.pinCalls.isEmpty());
        assertEquals(200, FakeHttp.delete(strategyPath(Fakes.PEER_ID)).bearer("s3cret").remote("10.0.0.9")
                .call(servlet).status());
    }

    @Test
    void shouldAnswer503ForPinningOnlyWithoutTheStrategyManager() throws Exception {
        servlet.strategyControl = null;
        FakeHttp.Result r = FakeHttp.put(strategyPath(Fakes.PEER_ID), "{\"strategy\": \"seda\"}").call(servlet);
        assertEquals(503, r.status(), r::toString);
        assertTrue(r.error().startsWith("not ready: the strategy manager"), r::toString);
        assertEquals(503, FakeHttp.delete(strategyPath(Fakes.PEER_ID)).call(servlet).status());
        assertEquals(200, FakeHttp.get("/network/mesh").call(servlet).status());
        assertEquals(200, FakeHttp.get("/network/peers").call(servlet).status());
        assertEquals(200, FakeHttp.get("/network/stats").call(servlet).status());
        assertEquals(200, FakeHttp.post("/network/handshake", HANDSHAKE).call(servlet).status());
    }

    @Test
    void shouldAnswer404And405() throws Exception {
        assertEquals(404, FakeHttp.get("/network/connections").call(servlet).status());
        assertEquals(404, FakeHttp.get("/network/connections/" + Fakes.PEER_ID).call(servlet).status());
        FakeHttp.Result s = FakeHttp.get(strategyPath(Fakes.PEER_ID)).call(servlet);
        assertEquals(405, s.status());
        assertEquals("PUT, DELETE, OPTIONS", s.header("Allow"));
        assertEquals(405, FakeHttp.post(strategyPath(Fakes.PEER_ID), "{}").call(servlet).status());
        FakeHttp.Result r = FakeHttp.get("/network/handshake").call(servlet);
        assertEquals(405, r.status());
        assertEquals("POST, OPTIONS", r.header("Allow"));
        r = FakeHttp.method("PUT", "/network/peers").call(servlet);
        assertEquals(405, r.status());
        assertEquals("GET, HEAD, POST, OPTIONS", r.header("Allow"));
    }
}
