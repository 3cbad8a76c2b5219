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

    /** The real {@code MidiSystem} of this JVM. */
    MidiSystemAccess JDK = new MidiSystemAccess() {
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
