package org.midimesh.driver.javasound.internal;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import javax.sound.midi.InvalidMidiDataException;
import javax.sound.midi.ShortMessage;
import javax.sound.midi.SysexMessage;

import org.midimesh.api.midi.MidiMessage;

/**
 * Conversions between MidiMesh's {@link MidiMessage} and {@code javax.sound.midi} messages. The outbound direction is
 * stateless; the inbound one is an {@link Assembler} per input, because the JDK may hand over a long SysEx in parts.
 */
final class JavaSoundMessages {

    /** The longest SysEx an input reassembles; a longer one is dropped (and counted). */
    static final int MAX_SYSEX_BYTES = 65_536;

    private static final HexFormat HEX = HexFormat.of();

    private JavaSoundMessages() {
    }

    /**
     * The same bytes as a javax message: a {@link SysexMessage} for SysEx, a {@link ShortMessage} otherwise.
     *
     * @throws IllegalArgumentException if javax.sound.midi does not accept them (it accepts every valid message)
     */
    static javax.sound.midi.MidiMessage toJavax(MidiMessage m) {
        try {
            if (m.isSysEx()) {
                byte[] bytes = m.toBytes();
                return new SysexMessage(bytes, bytes.length);
            }
            int n = m.length();
            return new ShortMessage(m.status(), n > 1 ? m.byteAt(1) : 0, n > 2 ? m.byteAt(2) : 0);
        } catch (InvalidMidiDataException e) {
            throw new IllegalArgumentException("javax.sound.midi does not accept " + m + ": " + e.getMessage(), e);
        }
    }

    /**
     * What one javax message amounted to: a complete message (or null, when it was only part of a SysEx or was
     * rejected), and the reasons anything was dropped on the way (a message MidiMessage rejects, a SysEx cut off).
     */
    record Step(MidiMessage message, List<String> rejected) {
        Step {
            rejected = List.copyOf(rejected);
        }
    }

    /**
     * Turns the javax messages of one input into {@link MidiMessage}s: short messages one by one, a SysEx that comes
     * in parts ({@code F0 ...} then {@code F7}-status continuations up to the one that ends with {@code F7}) as one
     * message. A status byte other than real-time cuts off an unfinished SysEx, as on the wire. Not thread-safe: the
     * input port calls it under its own monitor, which guards nothing else.
     */
    static final class Assembler {

        // The SysEx received so far, from F0, or null when none is under way.
        private ByteArrayOutputStream pending;

        Step accept(javax.sound.midi.MidiMessage in) {
            List<String> rejected = new ArrayList<>(1);
            byte[] bytes = in.getMessage();
            if (bytes == null || bytes.length == 0) {
                rejected.add("an empty message");
                return new Step(null, rejected);
            }
            int status = bytes[0] & 0xff;
            if (status == 0xf7 && in instanceof SysexMessage) {
                return continuation(bytes, rejected);
            }
            if (status < 0xf8 && pending != null) {
                rejected.add("an unfinished SysEx of " + pending.size() + " bytes, cut off by " + hex(bytes));
                pending = null;
            }
            if (status == 0xf0 && (bytes[bytes.length - 1] & 0xff) != 0xf7) {
                if (bytes.length > MAX_SYSEX_BYTES) {
                    rejected.add(tooLong());
                } else {
                    pending = new ByteArrayOutputStream();
                    pending.writeBytes(bytes);
                }
                return new Step(null, rejected);
            }
            return new Step(convert(bytes, rejected), rejected);
        }

        /** A special SysEx message (status F7): its data continue the pending SysEx. */
        private Step continuation(byte[] bytes, List<String> rejected) {
            if (pending == null) {
                rejected.add("a SysEx continuation without its start: " + hex(bytes));
                return new Step(null, rejected);
            }
            int dataLength = bytes.length - 1;
            if (pending.size() + dataLength > MAX_SYSEX_BYTES) {
                pending = null;
                rejected.add(tooLong());
                return new Step(null, rejected);
            }
            pending.write(bytes, 1, dataLength);
            if (dataLength == 0 || (bytes[bytes.length - 1] & 0xff) != 0xf7) {
                return new Step(null, rejected);
            }
            byte[] whole = pending.toByteArray();
            pending = null;
            return new Step(convert(whole, rejected), rejected);
        }

        private static MidiMessage convert(byte[] bytes, List<String> rejected) {
            String problem = MidiMessage.validate(bytes);
            if (problem != null) {
                rejected.add(problem + ": " + hex(bytes));
                return null;
            }
            return MidiMessage.of(bytes);
        }

        private static String tooLong() {
            return "a SysEx longer than " + MAX_SYSEX_BYTES + " bytes";
        }
    }

    /** Hex of at most the first 16 bytes, for a log line. */
    static String hex(byte[] bytes) {
        if (bytes.length <= 16) {
            return HEX.formatHex(bytes);
        }
        return HEX.formatHex(bytes, 0, 16) + "... (" + bytes.length + " bytes)";
    }
}
