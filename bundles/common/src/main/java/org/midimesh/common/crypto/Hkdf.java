package org.midimesh.common.crypto;

import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Objects;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HKDF with HMAC-SHA256 (RFC 5869), on the JDK's own {@link Mac}: the key derivation of transport v2
 * (docs/protocol.md). Stateless and thread-safe: each call uses a {@link Mac} of its own.
 */
public final class Hkdf {

    /** Output length of SHA-256, in bytes: the length of a PRK. */
    public static final int HASH_LENGTH = 32;
    private static final String HMAC = "HmacSHA256";

    private Hkdf() {
    }

    /**
     * HKDF-Extract: a pseudorandom key from input keying material {@code ikm} and a {@code salt} (an empty salt is
     * taken as {@value #HASH_LENGTH} zero bytes, as the RFC says).
     */
    public static byte[] extract(byte[] salt, byte[] ikm) {
        Objects.requireNonNull(ikm, "ikm");
        byte[] s = salt == null || salt.length == 0 ? new byte[HASH_LENGTH] : salt;
        return hmac(s, ikm);
    }

    /**
     * HKDF-Expand: {@code length} bytes of output keying material from a pseudorandom key and {@code info}.
     *
     * @throws IllegalArgumentException when {@code prk} is shorter than {@value #HASH_LENGTH} bytes, or
     *                                  {@code length} is not 1..8160 (255 blocks)
     */
    public static byte[] expand(byte[] prk, byte[] info, int length) {
        Objects.requireNonNull(prk, "prk");
        if (prk.length < HASH_LENGTH) {
            throw new IllegalArgumentException("a PRK has at least " + HASH_LENGTH + " bytes, not " + prk.length);
        }
        if (length < 1 || length > 255 * HASH_LENGTH) {
            throw new IllegalArgumentException("HKDF output is 1.." + 255 * HASH_LENGTH + " bytes, not " + length);
        }
        byte[] in = info == null ? new byte[0] : info;
        Mac mac = mac(prk);
        byte[] out = new byte[length];
        byte[] t = new byte[0];
        int done = 0;
        for (int block = 1; done < length; block++) {
            mac.update(t);
            mac.update(in);
            mac.update((byte) block);
            t = mac.doFinal();
            int n = Math.min(t.length, length - done);
            System.arraycopy(t, 0, out, done, n);
            done += n;
        }
        Arrays.fill(t, (byte) 0);
        return out;
    }

    /** HMAC-SHA256 of {@code data} under {@code key}. */
    public static byte[] hmac(byte[] key, byte[] data) {
        return mac(key).doFinal(data);
    }

    /** A fresh HMAC-SHA256 instance keyed with {@code key}. */
    public static Mac mac(byte[] key) {
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(new SecretKeySpec(key, HMAC));
            return mac;
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is part of every Java 17 runtime", e);
        }
    }
}
