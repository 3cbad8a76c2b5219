package org.midimesh.mesh.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.connection.Handshake;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The handshake JSON of the client side (docs/protocol.md "Handshake"), with and without a device list version. */
@Timeout(10)
class HandshakeMessageTest {

    final ObjectMapper json = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    @Test
    void shouldCarryTheDeviceListVersionBothWays() throws Exception {
        Handshake h = Fixtures.versioned(Fixtures.PEER, "10.0.0.2", 7011, "3f2a", 7, "peer Out");
        String text = json.writeValueAsString(HandshakeMessage.of(h));
        assertTrue(text.endsWith("\"devices_epoch\":\"3f2a\",\"devices_version\":7}"), text);
        assertEquals(h, json.readValue(text, HandshakeMessage.class).toHandshake("10.0.0.2"));
    }

    @Test
    void shouldLeaveTheVersionOutWhenThereIsNoneAndReadAPeerThatSendsNone() throws Exception {
        Handshake h = Fixtures.handshake(Fixtures.PEER, "10.0.0.2", 7011);
        String text = json.writeValueAsString(HandshakeMessage.of(h));
        assertFalse(text.contains("devices_epoch") || text.contains("devices_version"), text);
        Handshake back = json.readValue(text, HandshakeMessage.class).toHandshake("10.0.0.2");
        assertEquals(Optional.empty(), back.devicesVersion());
        assertEquals(h, back);
    }

    @Test
    void shouldNameTheInvalidVersionField() throws Exception {
        String base = json.writeValueAsString(HandshakeMessage.of(Fixtures.handshake(Fixtures.PEER, "h", 7011)));
        String epochOnly = base.substring(0, base.length() - 1) + ",\"devices_epoch\":\"e1\"}";
        assertEquals("devices_version is missing: devices_epoch and devices_version come together",
                assertThrows(IllegalArgumentException.class,
                        () -> json.readValue(epochOnly, HandshakeMessage.class).toHandshake("h")).getMessage());
        String negative = base.substring(0, base.length() - 1) + ",\"devices_epoch\":\"e1\",\"devices_version\":-2}";
        assertEquals("devices_version must be 0 or more, not -2", assertThrows(IllegalArgumentException.class,
                () -> json.readValue(negative, HandshakeMessage.class).toHandshake("h")).getMessage());
    }
}
