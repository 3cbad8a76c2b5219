package org.midimesh.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NodeIdTest {

    @Test
    void shouldParseDashedAndCompactForms() {
        NodeId a = NodeId.parse("550e8400-e29b-41d4-a716-446655440000");
        NodeId b = NodeId.parse("550E8400E29B41D4A716446655440000");
        assertEquals(a, b);
        assertEquals("550e8400-e29b-41d4-a716-446655440000", b.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "local", "550e8400-e29b-41d4-a716-44665544000", "550e8400e29b41d4a71644665544000g",
            "550e8400-e29b-41d4-a716-4466554400000", "550e-8400e29b-41d4-a716-446655440000"})
    void shouldRejectNonUuids(String text) {
        assertThrows(IllegalArgumentException.class, () -> NodeId.parse(text));
    }

    @Test
    void shouldRoundTripBytesBigEndian() {
        NodeId id = NodeId.parse("550e8400-e29b-41d4-a716-446655440000");
        byte[] b = id.toBytes();
        assertEquals((byte) 0x55, b[0]);
        assertEquals((byte) 0x00, b[15]);
        byte[] padded = new byte[20];
        System.arraycopy(b, 0, padded, 4, 16);
        assertEquals(id, NodeId.fromBytes(padded, 4));
        assertArrayEquals(b, NodeId.fromBytes(b, 0).toBytes());
    }
}
