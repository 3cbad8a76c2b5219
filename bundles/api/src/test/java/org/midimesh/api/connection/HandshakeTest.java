package org.midimesh.api.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.Handshake.DevicesVersion;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class HandshakeTest {

    @Test
    void shouldHaveNoDeviceListVersionUnlessGivenOne() {
        NodeInfo n = new NodeInfo(NodeId.random(), "n", "h", "a", 1, 2, 3, "v");
        assertEquals(Optional.empty(), new Handshake(n, List.of()).devicesVersion());
    }

    @Test
    void shouldReplaceAnOlderVersionOfTheSameStartAndAnyVersionOfAnotherStart() {
        DevicesVersion v3 = new DevicesVersion("e1", 3);
        assertTrue(new DevicesVersion("e1", 4).replaces(v3));
        assertTrue(new DevicesVersion("e1", 3).replaces(v3), "the same list again is no loss");
        assertFalse(new DevicesVersion("e1", 2).replaces(v3));
        assertTrue(new DevicesVersion("e2", 0).replaces(v3), "the sender started again");
    }

    @Test
    void shouldReadTheWireFieldsBothOrNeitherNamingWhatIsWrong() {
        assertEquals(Optional.empty(), DevicesVersion.fromWire(null, null));
        assertEquals(Optional.of(new DevicesVersion("e1", 0)), DevicesVersion.fromWire("e1", 0L));
        assertEquals("devices_version is missing: devices_epoch and devices_version come together",
                assertThrows(IllegalArgumentException.class, () -> DevicesVersion.fromWire("e1", null)).getMessage());
        assertEquals("devices_epoch is missing: devices_epoch and devices_version come together",
                assertThrows(IllegalArgumentException.class, () -> DevicesVersion.fromWire(null, 1L)).getMessage());
        assertEquals("devices_version must be 0 or more, not -1",
                assertThrows(IllegalArgumentException.class, () -> DevicesVersion.fromWire("e1", -1L)).getMessage());
        assertEquals("devices_epoch must be 1..64 characters without blanks or control characters",
                assertThrows(IllegalArgumentException.class, () -> DevicesVersion.fromWire("", 1L)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> DevicesVersion.fromWire("x".repeat(65), 1L));
    }
}
