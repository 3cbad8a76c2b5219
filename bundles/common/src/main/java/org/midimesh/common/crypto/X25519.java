package org.midimesh.common.crypto;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.XECPublicKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import java.util.Objects;

import javax.crypto.KeyAgreement;

/**
 * X25519 Diffie-Hellman (RFC 7748) on the JDK's own provider, with keys as their 32-byte wire form: the ephemeral key
 * exchange of the transport v2 handshake. Thread-safe (no state).
 */
public final class X25519 {

    /** Bytes of a public key, a private scalar and a shared secret. */
    public static final int KEY_LENGTH = 32;

    /** A key pair whose public half is in wire form. The private key never leaves the JDK's key object. */
    public record Ephemeral(PrivateKey privateKey, byte[] publicKey) {
        public Ephemeral {
            Objects.requireNonNull(privateKey, "privateKey");
            publicKey = publicKey.clone();
        }

        @Override
        public byte[] publicKey() {
            return publicKey.clone();
        }

        @Override
        public String toString() {
            return "X25519 key pair (private key not shown)";
        }
    }

    private X25519() {
    }

    /** A new random key pair (from the JDK's default secure random). */
    public static Ephemeral generate() {
        try {
            KeyPair kp = KeyPairGenerator.getInstance("X25519").generateKeyPair();
            return new Ephemeral(kp.getPrivate(), encodeU(((XECPublicKey) kp.getPublic()).getU()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("X25519 is part of every Java 17 runtime", e);
        }
    }

    /** The key pair of a given 32-byte private scalar (for test vectors). */
    public static Ephemeral fromPrivate(byte[] scalar) {
        if (scalar.length != KEY_LENGTH) {
            throw new IllegalArgumentException("an X25519 private key has 32 bytes, not " + scalar.length);
        }
        try {
            KeyFactory kf = KeyFactory.getInstance("XDH");
            PrivateKey priv = kf.generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, scalar.clone()));
            // The public key is X25519(scalar, 9): agree with the base point.
            byte[] base = new byte[KEY_LENGTH];
            base[0] = 9;
            return new Ephemeral(priv, agree(priv, base));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("X25519 is part of every Java 17 runtime", e);
        }
    }

    /**
     * The shared secret of {@code own} and a peer's 32-byte public key.
     *
     * @throws IllegalArgumentException when the peer's key is not 32 bytes or gives the all-zero secret (a key of small
     *                                  order: RFC 7748 section 6.1 says to refuse it)
     */
    public static byte[] agree(PrivateKey own, byte[] peerPublic) {
        Objects.requireNonNull(own, "own");
        if (peerPublic == null || peerPublic.length != KEY_LENGTH) {
            throw new IllegalArgumentException("an X25519 public key has 32 bytes");
        }
        byte[] secret;
        try {
            PublicKey peer = KeyFactory.getInstance("XDH")
                    .generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, decodeU(peerPublic)));
            KeyAgreement ka = KeyAgreement.getInstance("X25519");
            ka.init(own);
            ka.doPhase(peer, true);
            secret = ka.generateSecret();
        } catch (GeneralSecurityException e) {
            // The JDK refuses some small-order keys itself ("Point has small order").
            throw new IllegalArgumentException("unusable X25519 public key: " + e.getMessage());
        }
        byte any = 0;
        for (byte b : secret) {
            any |= b;
        }
        if (any == 0) {
            throw new IllegalArgumentException("unusable X25519 public key: the shared secret is all zero");
        }
        return secret;
    }

    /** The u-coordinate as RFC 7748 writes it: 32 bytes, little-endian. */
    static byte[] encodeU(BigInteger u) {
        byte[] be = u.toByteArray();
        byte[] le = new byte[KEY_LENGTH];
        for (int i = 0; i < KEY_LENGTH && i < be.length; i++) {
            le[i] = be[be.length - 1 - i];
        }
        return le;
    }

    /** The u-coordinate of 32 little-endian bytes, the top bit masked (RFC 7748 section 5). */
    static BigInteger decodeU(byte[] le) {
        byte[] be = new byte[KEY_LENGTH];
        for (int i = 0; i < KEY_LENGTH; i++) {
            be[i] = le[KEY_LENGTH - 1 - i];
        }
        be[0] &= 0x7f;
        return new BigInteger(1, be);
    }
}
