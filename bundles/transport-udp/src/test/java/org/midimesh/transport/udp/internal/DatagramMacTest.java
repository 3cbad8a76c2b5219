package org.midimesh.transport.udp.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.common.crypto.Hkdf;

/** The datagram MAC: truncated HMAC-SHA256, appended, checked in place; any change to a covered byte fails it. */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class DatagramMacTest {

    private static final byte[] KEY = new byte[32];

    static {
        Arrays.fill(KEY, (byte) 0x5a);
    }

    private static byte[] datagram(String body) {
        byte[] b = body.getBytes(StandardCharsets.US_ASCII);
        return Arrays.copyOf(b, b.length + DatagramMac.LENGTH);
    }

    @Test
    void shouldAppendTheFirst16BytesOfTheHmac() {
        byte[] buf = datagram("MM\u0002\u0001 a datagram");
        int body = buf.length - DatagramMac.LENGTH;

        new DatagramMac(KEY).sign(buf, body);

        byte[] expected = Arrays.copyOf(Hkdf.hmac(KEY, Arrays.copyOf(buf, body)), DatagramMac.LENGTH);
        assertArrayEquals(expected, Arrays.copyOfRange(buf, body, buf.length));
        assertTrue(new DatagramMac(KEY).verify(buf, buf.length));
    }

    @Test
    void shouldRefuseAnyChangedByteAnotherKeyOrATruncatedDatagram() {
        byte[] buf = datagram("MM\u0002\u0001 a datagram");
        DatagramMac mac = new DatagramMac(KEY);
        mac.sign(buf, buf.length - DatagramMac.LENGTH);
        for (int i = 0; i < buf.length; i++) {
            byte[] changed = buf.clone();
            changed[i] ^= 0x01;
            assertFalse(mac.verify(changed, changed.length), "byte " + i + " changed");
        }
        byte[] other = KEY.clone();
        other[0] ^= 1;
        assertFalse(new DatagramMac(other).verify(buf, buf.length));
        assertFalse(mac.verify(buf, buf.length - 1), "one byte short");
        assertFalse(mac.verify(buf, DatagramMac.LENGTH - 1), "shorter than a MAC");
        assertTrue(mac.verify(buf, buf.length), "the instance is reusable after refusals");
    }

    @Test
    void shouldMatchAVectorComputedElsewhere() {
        // Key 32 x 5a; body "MM" 02 01 and 8 zero bytes. HMAC-SHA256 from openssl and from Python's hmac module:
        // printf 'MM\x02\x01\0\0\0\0\0\0\0\0' | openssl dgst -sha256 -mac HMAC -macopt hexkey:5a5a...5a
        // = 3372b7757964b3e94badd6800a06c2ec37cc58f48ecf07d61f226af276b711d6; the MAC is its first 16 bytes.
        byte[] buf = new byte[12 + DatagramMac.LENGTH];
        buf[0] = 'M';
        buf[1] = 'M';
        buf[2] = 2;
        buf[3] = 1;
        new DatagramMac(KEY).sign(buf, 12);
        assertArrayEquals(HexFormat.of().parseHex("3372b7757964b3e94badd6800a06c2ec"),
                Arrays.copyOfRange(buf, 12, buf.length));
    }

    @Test
    void shouldRefuseAKeyOfTheWrongLength() {
        assertThrows(IllegalArgumentException.class, () -> new DatagramMac(new byte[16]));
    }
}
