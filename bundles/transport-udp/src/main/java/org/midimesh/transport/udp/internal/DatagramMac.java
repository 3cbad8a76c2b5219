package org.midimesh.transport.udp.internal;

import java.util.Objects;

import javax.crypto.Mac;
import javax.crypto.ShortBufferException;

import org.midimesh.common.crypto.Hkdf;

/**
 * The MAC of transport v2 datagrams (docs/transport-v2.md): HMAC-SHA256 under one direction's session key, over the
 * datagram up to its MAC, truncated to {@value #LENGTH} bytes and appended. Allocates nothing per datagram.
 * <p>Not thread-safe (it keeps a {@link Mac} and a scratch buffer): one instance per key and per thread that uses it.
 */
final class DatagramMac {

    /** Bytes of the MAC at the end of a datagram. */
    static final int LENGTH = 16;

    private final Mac mac;
    private final byte[] full = new byte[Hkdf.HASH_LENGTH];

    /** @param key the direction's 32-byte datagram key */
    DatagramMac(byte[] key) {
        Objects.requireNonNull(key, "key");
        if (key.length != Hkdf.HASH_LENGTH) {
            throw new IllegalArgumentException("a datagram key has 32 bytes, not " + key.length);
        }
        this.mac = Hkdf.mac(key);
    }

    /** Writes the MAC of {@code buf[0, length)} into {@code buf[length, length + LENGTH)}. */
    void sign(byte[] buf, int length) {
        compute(buf, length);
        System.arraycopy(full, 0, buf, length, LENGTH);
    }

    /**
     * Whether the last {@value #LENGTH} of {@code buf[0, length)} are the MAC of the bytes before them. Constant time
     * in the MAC's bytes, so a forger learns nothing from how long a refusal took.
     */
    boolean verify(byte[] buf, int length) {
        if (length < LENGTH) {
            return false;
        }
        int body = length - LENGTH;
        compute(buf, body);
        int diff = 0;
        for (int i = 0; i < LENGTH; i++) {
            diff |= full[i] ^ buf[body + i];
        }
        return diff == 0;
    }

    private void compute(byte[] buf, int length) {
        mac.update(buf, 0, length);
        try {
            mac.doFinal(full, 0);
        } catch (ShortBufferException e) {
            throw new IllegalStateException("the scratch buffer holds a whole HMAC-SHA256", e);
        }
    }
}
