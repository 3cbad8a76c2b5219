package org.midimesh.common.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The session key schedule: both sides agree, and every input moves every key. */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class SessionKeyScheduleTest {

    private static final byte[] NONCE_I = filled(32, 0x11);
    private static final byte[] NONCE_R = filled(32, 0x22);
    private static final byte[] SECRET = "correct horse battery staple".getBytes(StandardCharsets.UTF_8);

    private static byte[] filled(int n, int b) {
        byte[] a = new byte[n];
        Arrays.fill(a, (byte) b);
        return a;
    }

    private static byte[] transcript(String request, String reply) {
        return SessionKeySchedule.transcript(request.getBytes(StandardCharsets.UTF_8),
                reply.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void shouldGiveBothSidesTheSameKeys() {
        X25519.Ephemeral i = X25519.generate();
        X25519.Ephemeral r = X25519.generate();
        byte[] th = transcript("{\"hello\":1}", "{\"hello\":2}");

        SessionKeySchedule.Keys atInitiator = SessionKeySchedule.derive(X25519.agree(i.privateKey(), r.publicKey()),
                SECRET, NONCE_I, NONCE_R, th);
        SessionKeySchedule.Keys atResponder = SessionKeySchedule.derive(X25519.agree(r.privateKey(), i.publicKey()),
                SECRET, NONCE_I, NONCE_R, th);

        assertEquals(atInitiator, atResponder);
        List<byte[]> four = List.of(atInitiator.initiatorProof(), atInitiator.responderProof(),
                atInitiator.initiatorToResponder(), atInitiator.responderToInitiator());
        for (int a = 0; a < four.size(); a++) {
            assertEquals(32, four.get(a).length);
            for (int b = a + 1; b < four.size(); b++) {
                assertFalse(Arrays.equals(four.get(a), four.get(b)), "keys " + a + " and " + b + " differ");
            }
        }
    }

    @Test
    void shouldChangeEveryKeyWithAnyInput() {
        byte[] shared = filled(32, 0x33);
        byte[] th = transcript("a", "b");
        SessionKeySchedule.Keys base = SessionKeySchedule.derive(shared, SECRET, NONCE_I, NONCE_R, th);
        List<SessionKeySchedule.Keys> others = List.of(
                SessionKeySchedule.derive(filled(32, 0x34), SECRET, NONCE_I, NONCE_R, th),
                SessionKeySchedule.derive(shared, null, NONCE_I, NONCE_R, th),
                SessionKeySchedule.derive(shared, "another secret".getBytes(StandardCharsets.UTF_8), NONCE_I, NONCE_R,
                        th),
                SessionKeySchedule.derive(shared, SECRET, NONCE_R, NONCE_I, th),
                SessionKeySchedule.derive(shared, SECRET, NONCE_I, NONCE_R, transcript("a", "c")),
                // the length prefixes keep the boundary between request and reply in the transcript
                SessionKeySchedule.derive(shared, SECRET, NONCE_I, NONCE_R, transcript("ab", "")));
        for (SessionKeySchedule.Keys k : others) {
            assertFalse(Arrays.equals(base.initiatorProof(), k.initiatorProof()));
            assertFalse(Arrays.equals(base.responderProof(), k.responderProof()));
            assertFalse(Arrays.equals(base.initiatorToResponder(), k.initiatorToResponder()));
            assertFalse(Arrays.equals(base.responderToInitiator(), k.responderToInitiator()));
        }
    }

    @Test
    void shouldVerifyAProofOfTheSameTranscriptOnly() {
        SessionKeySchedule.Keys k = SessionKeySchedule.derive(filled(32, 0x33), null, NONCE_I, NONCE_R,
                transcript("a", "b"));
        byte[] th = transcript("a", "b");
        byte[] proof = SessionKeySchedule.proof(k.initiatorProof(), th);

        assertTrue(SessionKeySchedule.verify(k.initiatorProof(), th, proof));
        assertFalse(SessionKeySchedule.verify(k.initiatorProof(), transcript("a", "B"), proof));
        assertFalse(SessionKeySchedule.verify(k.responderProof(), th, proof), "the other side's key");
        byte[] tampered = proof.clone();
        tampered[31] ^= 1;
        assertFalse(SessionKeySchedule.verify(k.initiatorProof(), th, tampered));
        assertFalse(SessionKeySchedule.verify(k.initiatorProof(), th, Arrays.copyOf(proof, 16)), "truncated");
        assertFalse(SessionKeySchedule.verify(k.initiatorProof(), th, null));
    }

    @Test
    void shouldRefuseInputsOfTheWrongLengthAndShowNoKey() {
        byte[] th = transcript("a", "b");
        assertThrows(IllegalArgumentException.class,
                () -> SessionKeySchedule.derive(new byte[31], null, NONCE_I, NONCE_R, th));
        assertThrows(IllegalArgumentException.class,
                () -> SessionKeySchedule.derive(new byte[32], null, new byte[16], NONCE_R, th));
        assertThrows(IllegalArgumentException.class,
                () -> SessionKeySchedule.derive(new byte[32], null, NONCE_I, NONCE_R, new byte[20]));
        SessionKeySchedule.Keys k = SessionKeySchedule.derive(filled(32, 0x33), null, NONCE_I, NONCE_R, th);
        assertEquals("session keys (not shown)", k.toString());
        assertNotEquals(k, SessionKeySchedule.derive(filled(32, 0x44), null, NONCE_I, NONCE_R, th));
    }
}
