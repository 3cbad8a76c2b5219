package org.midimesh.common.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** X25519 on the JDK's provider, with keys in wire form, against RFC 7748 section 6.1. */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class X25519Test {

    private static final HexFormat HEX = HexFormat.of();
    private static final byte[] ALICE =
            HEX.parseHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    private static final byte[] BOB =
            HEX.parseHex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");

    @Test
    void shouldMatchRfc7748Section61() {
        X25519.Ephemeral alice = X25519.fromPrivate(ALICE);
        X25519.Ephemeral bob = X25519.fromPrivate(BOB);

        assertArrayEquals(HEX.parseHex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"),
                alice.publicKey());
        assertArrayEquals(HEX.parseHex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"),
                bob.publicKey());
        byte[] shared = HEX.parseHex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
        assertArrayEquals(shared, X25519.agree(alice.privateKey(), bob.publicKey()));
        assertArrayEquals(shared, X25519.agree(bob.privateKey(), alice.publicKey()));
    }

    @Test
    void shouldAgreeOnFreshKeysAndNeverRepeatThem() {
        X25519.Ephemeral a = X25519.generate();
        X25519.Ephemeral b = X25519.generate();
        assertArrayEquals(X25519.agree(a.privateKey(), b.publicKey()), X25519.agree(b.privateKey(), a.publicKey()));
        assertFalse(java.util.Arrays.equals(a.publicKey(), b.publicKey()));
        assertEquals(32, a.publicKey().length);
    }

    @Test
    void shouldRefuseKeysOfSmallOrderOrWrongLength() {
        X25519.Ephemeral a = X25519.generate();
        assertThrows(IllegalArgumentException.class, () -> X25519.agree(a.privateKey(), new byte[32])); // u = 0
        byte[] one = new byte[32];
        one[0] = 1; // u = 1, a point of small order
        assertThrows(IllegalArgumentException.class, () -> X25519.agree(a.privateKey(), one));
        assertThrows(IllegalArgumentException.class, () -> X25519.agree(a.privateKey(), new byte[31]));
        assertThrows(IllegalArgumentException.class, () -> X25519.agree(a.privateKey(), null));
    }

    @Test
    void shouldNotShowThePrivateKey() {
        assertFalse(X25519.generate().toString().matches(".*[0-9a-f]{16}.*"));
    }
}
