package org.midimesh.common.crypto;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Objects;

/**
 * The key schedule of a transport v2 session (docs/protocol.md): from the handshake's X25519 shared secret, both
 * nonces, the transcript of the handshake and, when the mesh has one, the mesh secret, to the keys that prove the
 * handshake and authenticate the session's datagrams. Pure functions; thread-safe.
 *
 * <pre>
 * salt  = SHA-256("midimesh/2 mesh secret" || mesh secret)       with a mesh secret
 *         32 zero bytes                                         without
 * prk   = HKDF-Extract(salt, shared secret || initiator nonce || responder nonce)
 * th    = SHA-256(u32 length || request body || u32 length || reply body)   (the handshake's exact bytes)
 * key_L = HKDF-Expand(prk, "midimesh/2 " || L || th, 32)   for each label L below
 * proof = HMAC-SHA256(key of the proof, th)
 * </pre>
 * Labels: {@code "initiator proof"}, {@code "responder proof"}, {@code "datagrams initiator to responder"},
 * {@code "datagrams responder to initiator"}.
 */
public final class SessionKeySchedule {

    /** Bytes of a handshake nonce. */
    public static final int NONCE_LENGTH = 32;
    private static final byte[] PREFIX = "midimesh/2 ".getBytes(StandardCharsets.US_ASCII);

    /**
     * The keys of one session. Arrays are copied in and out; {@link #toString()} shows none of them, so a session
     * logged by mistake leaks nothing.
     */
    public record Keys(byte[] initiatorProof, byte[] responderProof, byte[] initiatorToResponder,
            byte[] responderToInitiator) {
        public Keys {
            initiatorProof = initiatorProof.clone();
            responderProof = responderProof.clone();
            initiatorToResponder = initiatorToResponder.clone();
            responderToInitiator = responderToInitiator.clone();
        }

        @Override
        public byte[] initiatorProof() {
            return initiatorProof.clone();
        }

        @Override
        public byte[] responderProof() {
            return responderProof.clone();
        }

        @Override
        public byte[] initiatorToResponder() {
            return initiatorToResponder.clone();
        }

        @Override
        public byte[] responderToInitiator() {
            return responderToInitiator.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Keys k && MessageDigest.isEqual(initiatorProof, k.initiatorProof)
                    && MessageDigest.isEqual(responderProof, k.responderProof)
                    && MessageDigest.isEqual(initiatorToResponder, k.initiatorToResponder)
                    && MessageDigest.isEqual(responderToInitiator, k.responderToInitiator);
        }

        @Override
        public int hashCode() {
            return 0; // keys are not meant to be hashed; equal keys still hash equal
        }

        @Override
        public String toString() {
            return "session keys (not shown)";
        }
    }

    private SessionKeySchedule() {
    }

    /**
     * The session's keys.
     *
     * @param sharedSecret   the X25519 shared secret (32 bytes)
     * @param meshSecret     the mesh secret's bytes, or null when the mesh has none
     * @param initiatorNonce {@value #NONCE_LENGTH} bytes
     * @param responderNonce {@value #NONCE_LENGTH} bytes
     * @param transcript     {@link #transcript}
     */
    public static Keys derive(byte[] sharedSecret, byte[] meshSecret, byte[] initiatorNonce, byte[] responderNonce,
            byte[] transcript) {
        check("sharedSecret", sharedSecret, X25519.KEY_LENGTH);
        check("initiatorNonce", initiatorNonce, NONCE_LENGTH);
        check("responderNonce", responderNonce, NONCE_LENGTH);
        check("transcript", transcript, Hkdf.HASH_LENGTH);
        byte[] salt = meshSecret == null ? new byte[Hkdf.HASH_LENGTH]
                : sha256("midimesh/2 mesh secret".getBytes(StandardCharsets.US_ASCII), meshSecret);
        byte[] ikm = ByteBuffer.allocate(X25519.KEY_LENGTH + 2 * NONCE_LENGTH).put(sharedSecret).put(initiatorNonce)
                .put(responderNonce).array();
        byte[] prk = Hkdf.extract(salt, ikm);
        return new Keys(expand(prk, "initiator proof", transcript), expand(prk, "responder proof", transcript),
                expand(prk, "datagrams initiator to responder", transcript),
                expand(prk, "datagrams responder to initiator", transcript));
    }

    /** The transcript hash of a handshake: its request body and reply body, exactly as sent. */
    public static byte[] transcript(byte[] requestBody, byte[] replyBody) {
        return sha256(ByteBuffer.allocate(4).putInt(requestBody.length).array(), requestBody,
                ByteBuffer.allocate(4).putInt(replyBody.length).array(), replyBody);
    }

    /** A proof of the handshake: HMAC-SHA256 of the transcript under a proof key. */
    public static byte[] proof(byte[] proofKey, byte[] transcript) {
        return Hkdf.hmac(proofKey, transcript);
    }

    /** Whether {@code claimed} is the proof of {@code transcript} under {@code proofKey}; constant time. */
    public static boolean verify(byte[] proofKey, byte[] transcript, byte[] claimed) {
        return claimed != null && MessageDigest.isEqual(proof(proofKey, transcript), claimed);
    }

    private static byte[] expand(byte[] prk, String label, byte[] transcript) {
        byte[] l = label.getBytes(StandardCharsets.US_ASCII);
        byte[] info = ByteBuffer.allocate(PREFIX.length + l.length + transcript.length).put(PREFIX).put(l)
                .put(transcript).array();
        return Hkdf.expand(prk, info, Hkdf.HASH_LENGTH);
    }

    private static byte[] sha256(byte[]... parts) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            for (byte[] p : parts) {
                d.update(p);
            }
            return d.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java 17 runtime", e);
        }
    }

    private static void check(String name, byte[] value, int length) {
        Objects.requireNonNull(value, name);
        if (value.length != length) {
            throw new IllegalArgumentException(name + " has " + length + " bytes, not " + value.length);
        }
    }
}
