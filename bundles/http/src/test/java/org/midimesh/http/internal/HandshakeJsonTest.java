package org.midimesh.http.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.DeviceInfo;
import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.Handshake;

import com.fasterxml.jackson.databind.ObjectMapper;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HandshakeJsonTest {

    private final ObjectMapper mapper = ApiJson.newMapper();

    @Test
    void shouldRoundTripAHandshakeThroughTheDocumentedJson() throws Exception {
        Handshake h = new Handshake(new NodeInfo(Fakes.PEER_ID, "beta", "beta.local", "10.0.0.2", 8474, 8475, 8476,
                "0.1.0"), List.of(new DeviceInfo(1, "beta In", DeviceType.INPUT),
                        new DeviceInfo(7, "Synth", DeviceType.OUTPUT)));
        String json = mapper.writeValueAsString(HandshakeJson.toDto(h));
        assertEquals("{\"node_id\":\"22222222-2222-2222-2222-222222222222\",\"node_name\":\"beta\","
                + "\"version\":\"0.1.0\",\"http_port\":8474,\"udp_port\":8475,\"tcp_port\":8476,"
                + "\"hostname\":\"beta.local\",\"devices\":[{\"id\":1,\"name\":\"beta In\",\"type\":\"input\"},"
                + "{\"id\":7,\"name\":\"Synth\",\"type\":\"output\"}]}", json);
        Handshake back = HandshakeJson.fromDto(mapper.readValue(json, HandshakeJson.Dto.class), "10.0.0.2");
        assertEquals(h, back);
    }

    /** protocol.md: devices_epoch and devices_version are optional, and come together. */
    @Test
    void shouldCarryTheDeviceListVersionWhenThereIsOne() throws Exception {
        Handshake h = new Handshake(new NodeInfo(Fakes.PEER_ID, "beta", "beta.local", "10.0.0.2", 8474, 8475, 8476,
                "0.1.0"), List.of(new DeviceInfo(1, "beta In", DeviceType.INPUT)),
                Optional.of(new Handshake.DevicesVersion("3f2a9c", 7)));
        String json = mapper.writeValueAsString(HandshakeJson.toDto(h));
        assertEquals("{\"node_id\":\"22222222-2222-2222-2222-222222222222\",\"node_name\":\"beta\","
                + "\"version\":\"0.1.0\",\"http_port\":8474,\"udp_port\":8475,\"tcp_port\":8476,"
                + "\"hostname\":\"beta.local\",\"devices\":[{\"id\":1,\"name\":\"beta In\",\"type\":\"input\"}],"
                + "\"devices_epoch\":\"3f2a9c\",\"devices_version\":7}", json);
        assertEquals(h, HandshakeJson.fromDto(mapper.readValue(json, HandshakeJson.Dto.class), "10.0.0.2"));
    }

    @Test
    void shouldNameTheInvalidDeviceListVersionField() {
        String id = Fakes.PEER_ID.toString();
        HandshakeJson.Dto epochOnly = new HandshakeJson.Dto(id, "beta", "1", 1, 2, 3, null, List.of(), "e1", null);
        assertEquals("devices_version is missing: devices_epoch and devices_version come together",
                assertThrows(IllegalArgumentException.class, () -> HandshakeJson.fromDto(epochOnly, "h")).getMessage());
        HandshakeJson.Dto versionOnly = new HandshakeJson.Dto(id, "beta", "1", 1, 2, 3, null, List.of(), null, 4L);
        assertEquals("devices_epoch is missing: devices_epoch and devices_version come together",
                assertThrows(IllegalArgumentException.class, () -> HandshakeJson.fromDto(versionOnly, "h"))
                        .getMessage());
        HandshakeJson.Dto negative = new HandshakeJson.Dto(id, "beta", "1", 1, 2, 3, null, List.of(), "e1", -1L);
        assertEquals("devices_version must be 0 or more, not -1",
                assertThrows(IllegalArgumentException.class, () -> HandshakeJson.fromDto(negative, "h")).getMessage());
        HandshakeJson.Dto blank = new HandshakeJson.Dto(id, "beta", "1", 1, 2, 3, null, List.of(), "a b", 1L);
        assertEquals("devices_epoch must be 1..64 characters without blanks or control characters",
                assertThrows(IllegalArgumentException.class, () -> HandshakeJson.fromDto(blank, "h")).getMessage());
    }

    @Test
    void shouldNameTheInvalidDeviceField() {
        HandshakeJson.Dto base = new HandshakeJson.Dto(Fakes.PEER_ID.toString(), "beta", "1", 1, 2, 3, null,
                List.of(new HandshakeJson.DeviceDto(1, "a", "input"), new HandshakeJson.DeviceDto(1, "b", "input")));
        assertEquals("devices[1].id: duplicate device id 1",
                assertThrows(IllegalArgumentException.class, () -> HandshakeJson.fromDto(base, "h")).getMessage());
        HandshakeJson.Dto badId = new HandshakeJson.Dto(Fakes.PEER_ID.toString(), "beta", "1", 1, 2, 3, null,
                List.of(new HandshakeJson.DeviceDto(0, "a", "input")));
        assertEquals("devices[0].id must be 1..65535, not 0",
                assertThrows(IllegalArgumentException.class, () -> HandshakeJson.fromDto(badId, "h")).getMessage());
        HandshakeJson.Dto badPort = new HandshakeJson.Dto(Fakes.PEER_ID.toString(), "beta", "1", 1, 70000, 3, null,
                List.of());
        assertEquals("udp_port must be 1..65535, not 70000",
                assertThrows(IllegalArgumentException.class, () -> HandshakeJson.fromDto(badPort, "h")).getMessage());
        HandshakeJson.Dto blankName = new HandshakeJson.Dto("22222222222222222222222222222222", " ", "1", 1, 2, 3,
                null, List.of());
        assertThrows(IllegalArgumentException.class, () -> HandshakeJson.fromDto(blankName, "h"));
        HandshakeJson.Dto badNode = new HandshakeJson.Dto("beta", "beta", "1", 1, 2, 3, null, List.of());
        assertEquals("node_id: not a UUID (36 characters, or 32 hex digits)",
                assertThrows(IllegalArgumentException.class, () -> HandshakeJson.fromDto(badNode, "h")).getMessage());
    }
}
