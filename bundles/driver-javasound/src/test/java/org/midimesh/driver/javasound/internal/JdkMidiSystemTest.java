package org.midimesh.driver.javasound.internal;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import javax.sound.midi.MidiDevice;
import javax.sound.midi.MidiSystem;
import javax.sound.midi.Sequencer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.test.Configs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver against the real {@code MidiSystem} of the JDK running the build: whatever it has (on a headless JDK the
 * software synthesizer, unavailable without an audio line, and the sequencer, which is not listed), the driver starts,
 * lists it within the rules, and stops, without throwing.
 */
class JdkMidiSystemTest {

    private static final Logger LOG = LoggerFactory.getLogger(JdkMidiSystemTest.class);

    @Test
    @Timeout(60)
    void theDriverStartsCleanlyOnThisJdkAndListsWhatItFinds() throws Exception {
        JavaSoundMidiDriver driver = new JavaSoundMidiDriver(Configs.defaults(JavaSoundMidiDriver.Config.class));
        try {
            assertDoesNotThrow(() -> driver.rescan().get(30, TimeUnit.SECONDS));
            List<MidiPort> ports = driver.ports();
            LOG.info("this JDK's javax.sound.midi ports: {}", ports.stream()
                    .map(p -> p + (p.availability().available() ? " available" : " unavailable: "
                            + p.availability().reason())).toList());
            Set<String> sequencers = new HashSet<>();
            for (MidiDevice.Info info : MidiSystem.getMidiDeviceInfo()) {
                if (MidiSystem.getMidiDevice(info) instanceof Sequencer) {
                    sequencers.add(PortNames.base(info.getName()));
                }
            }
            Set<String> seen = new HashSet<>();
            for (MidiPort p : ports) {
                assertTrue(seen.add(p.type() + ":" + p.name()), "unique name and direction: " + p);
                assertTrue(p.name().length() <= PortNames.MAX_LENGTH && !p.name().isBlank(), p.toString());
                assertTrue(p.name().codePoints().noneMatch(Character::isISOControl), p.toString());
                assertEquals(p.availability().available(), p.availability().reason().isEmpty(), p.toString());
                assertFalse(sequencers.contains(p.name()), "sequencers are not ports: " + p);
            }
            assertDoesNotThrow(() -> driver.rescan().get(30, TimeUnit.SECONDS), "a second scan");
        } finally {
            driver.deactivate();
        }
        assertEquals(List.of(), driver.ports());
    }
}
