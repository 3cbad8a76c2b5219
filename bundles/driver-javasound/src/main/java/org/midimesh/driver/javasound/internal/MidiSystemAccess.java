package org.midimesh.driver.javasound.internal;

import javax.sound.midi.MidiDevice;
import javax.sound.midi.MidiUnavailableException;

/**
 * The part of {@code javax.sound.midi.MidiSystem} the driver uses to find devices, so that tests can give it fake
 * devices. The driver calls it on its own thread only, with the thread context class loader set for the JDK's
 * provider lookup; it may block for as long as the JDK takes.
 */
interface MidiSystemAccess {

    /** What the JDK sees now, in its order; as {@code MidiSystem.getMidiDeviceInfo()}. */
    MidiDevice.Info[] deviceInfo();

    /** As {@code MidiSystem.getMidiDevice(info)}; the device is not opened. */
    MidiDevice device(MidiDevice.Info info) throws MidiUnavailableException;

    /**
     * Whether this machine has an audio output line a software synthesizer could play into, as
     * {@code AudioSystem.isLineSupported} for a {@code SourceDataLine}: a cheap question. Opening the JDK's software
     * synthesizer without one builds its sound bank first and fails only then (about 100 ms of CPU the first time,
     * and a JIT compilation of that code while MIDI runs; 10 ms at every retry after).
     */
    boolean audioOutputLine();

    /** The real {@code MidiSystem} of this JVM. */
    MidiSystemAccess JDK = new MidiSystemAccess() {
        @Override
        public boolean audioOutputLine() {
            return javax.sound.sampled.AudioSystem.isLineSupported(
                    new javax.sound.sampled.Line.Info(javax.sound.sampled.SourceDataLine.class));
        }

        @Override
        public MidiDevice.Info[] deviceInfo() {
            return javax.sound.midi.MidiSystem.getMidiDeviceInfo();
        }

        @Override
        public MidiDevice device(MidiDevice.Info info) throws MidiUnavailableException {
            return javax.sound.midi.MidiSystem.getMidiDevice(info);
        }

        @Override
        public String toString() {
            return "javax.sound.midi.MidiSystem";
        }
    };
}
