package org.midimesh.driver.javasound.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.LongSupplier;

import javax.sound.midi.MidiDevice;
import javax.sound.midi.MidiUnavailableException;
import javax.sound.midi.Receiver;
import javax.sound.midi.Sequencer;
import javax.sound.midi.Synthesizer;
import javax.sound.midi.Transmitter;

import org.midimesh.api.driver.Availability;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One device the JDK lists, and the ports the driver made for it. Not thread-safe: confined to the driver thread
 * (the JDK calls only the input port's receiver, on its own thread).
 * <p>A device with receivers ({@code getMaxReceivers() != 0}) gives an output, one with transmitters an input; it is
 * opened once for both. A device that cannot be opened (the synthesizer without an audio line, a port another program
 * holds) is listed unavailable with the reason, and opening is tried again after a delay that doubles up to
 * {@link #MAX_RETRY_NANOS}. Sequencers and devices without receivers or transmitters give no port.
 */
final class DeviceEntry {

    static final long MAX_RETRY_NANOS = 60_000_000_000L;
    static final int MAX_REASON_LENGTH = 300;

    private static final Logger LOG = LoggerFactory.getLogger(DeviceEntry.class);

    final MidiDevice.Info info;
    // The device name as a port name (PortNames.base): safe for a log line, the base of the port names.
    final String label;
    private MidiDevice device;
    // Why the device gives no port at all (a sequencer, no receivers or transmitters), or null.
    private String notAPort;
    private boolean output;
    private boolean input;

    // The names given, kept for as long as the device is listed (null: no port in that direction).
    String outputName;
    String inputName;

    private boolean open;
    private Transmitter transmitter;
    private JavaSoundOutputPort outputPort;
    private JavaSoundInputPort inputPort;
    private int failures;
    private long nextAttemptNanos;

    DeviceEntry(MidiDevice.Info info) {
        this.info = info;
        this.label = PortNames.base(info.getName());
    }

    /** Asks the JDK for the device and what it can do; false when it cannot be had now (logged). */
    boolean examine(MidiSystemAccess system) {
        if (device != null || notAPort != null) {
            return true;
        }
        MidiDevice d;
        try {
            d = system.device(info);
        } catch (MidiUnavailableException | RuntimeException e) {
            LOG.warn("cannot get the javax.sound.midi device \"{}\": {}", label, describe(e));
            return false;
        }
        if (d == null) {
            return false;
        }
        if (d instanceof Sequencer) {
            notAPort = "a sequencer plays sequences; it is not a MIDI port";
        } else {
            output = d.getMaxReceivers() != 0;
            input = d.getMaxTransmitters() != 0;
            if (!output && !input) {
                notAPort = "it has neither receivers nor transmitters";
            }
        }
        if (notAPort != null) {
            LOG.debug("javax.sound.midi device \"{}\" is not listed: {}", label, notAPort);
        } else {
            device = d;
        }
        return true;
    }

    boolean hasOutput() {
        return device != null && output;
    }

    boolean hasInput() {
        return device != null && input;
    }

    /**
     * Opens the device if it is not open and its retry time has come, and (re)makes the ports when their
     * availability changed. Needs the names set. Blocks as long as the device's open does.
     */
    void openIfDue(MidiSystemAccess system, long nowNanos, long retryBaseNanos, LongSupplier epochMicros,
            LongSupplier nanoTime) {
        if (device == null || open || (failures > 0 && nowNanos - nextAttemptNanos < 0)) {
            return;
        }
        MidiDevice d = device;
        if (d instanceof Synthesizer && !system.audioOutputLine()) {
            failed(NO_AUDIO_LINE, nowNanos, retryBaseNanos, epochMicros, nanoTime);
            return;
        }
        JavaSoundInputPort in = null;
        Receiver receiver = null;
        try {
            d.open();
            if (hasOutput()) {
                receiver = d.getReceiver();
            }
            if (hasInput()) {
                in = new JavaSoundInputPort(inputName, Availability.AVAILABLE, d::getMicrosecondPosition, epochMicros,
                        nanoTime);
                transmitter = d.getTransmitter();
                transmitter.setReceiver(in.receiver());
            }
        } catch (MidiUnavailableException | RuntimeException e) {
            closeQuietly();
            failed(cannotOpen(d, e), nowNanos, retryBaseNanos, epochMicros, nanoTime);
            return;
        }
        open = true;
        outputPort = hasOutput() ? new JavaSoundOutputPort(outputName, receiver) : null;
        inputPort = in;
        LOG.info("opened javax.sound.midi device \"{}\"{}:{}{}", label,
                failures > 0 ? " after " + failures + " failed attempt(s)" : "",
                in != null ? " input \"" + inputName + "\"" : "",
                outputPort != null ? " output \"" + outputName + "\"" : "");
        failures = 0;
    }

    private void failed(String reason, long nowNanos, long retryBaseNanos, LongSupplier epochMicros,
            LongSupplier nanoTime) {
        failures++;
        long delay = retryBaseNanos;
        for (int i = 1; i < failures && delay < MAX_RETRY_NANOS; i++) {
            delay *= 2;
        }
        delay = Math.min(delay, MAX_RETRY_NANOS);
        nextAttemptNanos = nowNanos + delay;
        String previous = outputPort != null ? outputPort.availability().reason()
                : inputPort != null ? inputPort.availability().reason() : null;
        if (Objects.equals(previous, reason)) {
            LOG.debug("\"{}\" still cannot be opened (attempt {}): {}", label, failures, reason);
            return;
        }
        LOG.info("javax.sound.midi device \"{}\" is listed unavailable: {}; trying again in {} s, then less often",
                label, reason, delay / 1_000_000_000L);
        Availability unavailable = Availability.unavailable(reason);
        outputPort = hasOutput() ? new JavaSoundOutputPort(outputName, unavailable) : null;
        inputPort = hasInput() ? new JavaSoundInputPort(inputName, unavailable, () -> -1, epochMicros, nanoTime) : null;
    }

    /** The ports now: input first; none for a device that gives no port or was not examined yet. */
    List<JavaSoundPort> ports() {
        List<JavaSoundPort> out = new ArrayList<>(2);
        if (inputPort != null) {
            out.add(inputPort);
        }
        if (outputPort != null) {
            out.add(outputPort);
        }
        return out;
    }

    /** Closes the device if this entry opened it, and marks its ports closed. Never throws. */
    void close() {
        closeQuietly();
        if (outputPort != null) {
            outputPort.markClosed();
        }
        if (inputPort != null) {
            inputPort.markClosed();
        }
        if (open) {
            LOG.info("closed javax.sound.midi device \"{}\"", label);
        }
        open = false;
    }

    private void closeQuietly() {
        try {
            if (transmitter != null) {
                transmitter.close();
            }
        } catch (RuntimeException e) {
            LOG.warn("closing the transmitter of \"{}\" failed: {}", label, describe(e));
        }
        transmitter = null;
        try {
            if (device != null && device.isOpen()) {
                device.close();
            }
        } catch (RuntimeException e) {
            LOG.warn("closing \"{}\" failed: {}", label, describe(e));
        }
    }

    /** The reason shown for a device that could not be opened. */
    /** Why a software synthesizer is not even tried: the machine has no audio output line for it. */
    static final String NO_AUDIO_LINE = "cannot open (a software synthesizer needs an audio output line): this machine "
            + "has none now";

    static String cannotOpen(MidiDevice d, Exception e) {
        String hint = d instanceof Synthesizer ? " (a software synthesizer needs an audio output line)" : "";
        return cut("cannot open" + hint + ": " + describe(e));
    }

    /** The message of an exception and of its cause, on one line; its class when it has no message. */
    static String describe(Throwable e) {
        String text = e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName()
                : e.getMessage();
        Throwable cause = e.getCause();
        if (cause != null && cause.getMessage() != null && !cause.getMessage().isBlank()
                && !text.contains(cause.getMessage())) {
            text += " (" + cause.getMessage() + ")";
        }
        StringBuilder b = new StringBuilder(text.length());
        text.codePoints().forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? ' ' : c));
        return b.toString().strip();
    }

    private static String cut(String s) {
        return s.length() <= MAX_REASON_LENGTH ? s : s.substring(0, MAX_REASON_LENGTH - 3) + "...";
    }

    /**
     * True when {@code other} describes this entry's device: the same strings, and the JDK gives the same device
     * object for it. On the driver thread; may ask the JDK for the device.
     */
    boolean isDeviceOf(MidiDevice.Info other, MidiSystemAccess system) {
        if (device == null || !Objects.equals(info.getName(), other.getName())
                || !Objects.equals(info.getVendor(), other.getVendor())
                || !Objects.equals(info.getDescription(), other.getDescription())
                || !Objects.equals(info.getVersion(), other.getVersion())) {
            return false;
        }
        try {
            return system.device(other) == device;
        } catch (MidiUnavailableException | RuntimeException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return "\"" + label + "\"" + (open ? " (open)" : "");
    }
}
