package org.midimesh.driver.javasound.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import javax.sound.midi.ShortMessage;
import javax.sound.midi.SysexMessage;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.driver.Availability;
import org.midimesh.api.driver.InputSink;
import org.midimesh.api.driver.MidiDriver;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.driver.PortListener;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.test.Configs;

/** The driver against fake javax.sound.midi devices ({@link FakeMidi}): mapping, naming, rescans, play and input. */
class JavaSoundMidiDriverTest {

    private static final long EPOCH_NOW = 1_800_000_000_000_000L;
    private static final Duration AWAIT = Duration.ofSeconds(10);

    private final FakeMidi midi = new FakeMidi();
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private JavaSoundMidiDriver driver;

    @AfterEach
    void stop() {
        if (driver != null) {
            driver.deactivate();
        }
    }

    /** A driver that rescans only when told (interval one hour, after the scan at start). */
    private JavaSoundMidiDriver start() throws Exception {
        return start(3_600_000L);
    }

    private JavaSoundMidiDriver start(long intervalMs) throws Exception {
        driver = new JavaSoundMidiDriver(midi, Configs.of(JavaSoundMidiDriver.Config.class,
                Map.of("rescan_interval_ms", intervalMs)), nanos::get, () -> EPOCH_NOW);
        driver.rescan().get(10, TimeUnit.SECONDS);
        return driver;
    }

    private static MidiPort port(MidiDriver d, String name, DeviceType type) {
        return d.ports().stream().filter(p -> p.name().equals(name) && p.type() == type).findFirst()
                .orElseThrow(() -> new AssertionError("no " + type + " \"" + name + "\" in " + names(d)));
    }

    private static List<String> names(MidiDriver d) {
        return d.ports().stream().map(p -> p.type().wireName() + ":" + p.name()).toList();
    }

    /** Records listener calls as "added input:Name" / "removed output:Name", with the thread they came on. */
    private static final class Recorder implements PortListener {
        final List<String> events = new CopyOnWriteArrayList<>();
        final List<String> threads = new CopyOnWriteArrayList<>();

        @Override
        public void portAdded(MidiDriver d, MidiPort p) {
            threads.add(Thread.currentThread().getName());
            events.add("added " + p.type().wireName() + ":" + p.name());
        }

        @Override
        public void portRemoved(MidiDriver d, MidiPort p) {
            threads.add(Thread.currentThread().getName());
            events.add("removed " + p.type().wireName() + ":" + p.name());
        }
    }

    @Test
    @Timeout(30)
    void devicesMapToPortsByDirectionAndSequencersAreSkipped() throws Exception {
        midi.add("Synth", -1, 0);
        midi.add("Keyboard", 0, 1);
        midi.add("Interface", 4, 4);
        midi.addSequencer("Real Time Sequencer");
        midi.add("Nothing", 0, 0);
        start();
        assertEquals("javasound", driver.name());
        assertEquals(List.of("output:Synth", "input:Keyboard", "input:Interface", "output:Interface"), names(driver));
        for (MidiPort p : driver.ports()) {
            assertEquals(Availability.AVAILABLE, p.availability(), p.toString());
        }
        assertThrows(UnsupportedOperationException.class, () -> driver.ports().add(null), "ports() is immutable");
    }

    @Test
    @Timeout(30)
    void aDeviceThatCannotOpenIsListedUnavailableWithTheReason() throws Exception {
        FakeMidi.Device synth = midi.add("Gervill", -1, 0);
        synth.openFailure = "Can not open line";
        FakeMidi.Device both = midi.add("Busy", 1, 1);
        both.openFailure = "in use by another program";
        start();
        MidiPort out = port(driver, "Gervill", DeviceType.OUTPUT);
        assertFalse(out.availability().available());
        assertTrue(out.availability().reason().contains("Can not open line"), out.availability().reason());
        assertTrue(port(driver, "Busy", DeviceType.INPUT).availability().reason().contains("in use"));
        assertTrue(port(driver, "Busy", DeviceType.OUTPUT).availability().reason().contains("in use"));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> out.play(List.of(MidiMessage.parseHex("903c64")), NodeId.random()));
        assertTrue(e.getMessage().contains("Can not open line"), e.getMessage());
    }

    @Test
    @Timeout(30)
    void aSynthesizerIsNotOpenedWhileThereIsNoAudioLineAndIsOnceOneAppears() throws Exception {
        // The JDK's software synthesizer builds its sound bank before it finds there is no audio line: 100 ms of CPU,
        // then 10 ms at every retry, next to realtime MIDI. The driver asks first.
        midi.audioLine = false;
        FakeMidi.Synth synth = midi.addSynthesizer("Gervill");
        start();
        MidiPort before = port(driver, "Gervill", DeviceType.OUTPUT);
        assertFalse(before.availability().available());
        assertEquals(DeviceEntry.NO_AUDIO_LINE, before.availability().reason());
        nanos.addAndGet(TimeUnit.HOURS.toNanos(1));
        driver.rescan().get(10, TimeUnit.SECONDS);
        assertEquals(0, synth.opens.get(), "never opened without an audio line");

        midi.audioLine = true;
        nanos.addAndGet(TimeUnit.HOURS.toNanos(1));
        driver.rescan().get(10, TimeUnit.SECONDS);
        assertEquals(1, synth.opens.get());
        assertTrue(port(driver, "Gervill", DeviceType.OUTPUT).availability().available());
    }

    @Test
    @Timeout(30)
    void aFailedDeviceIsRetriedLaterAndReplacedWhenItOpens() throws Exception {
        FakeMidi.Device d = midi.add("Late", 1, 0);
        d.openFailure = "not yet";
        Recorder r = new Recorder();
        start();
        driver.addPortListener(r);
        MidiPort before = port(driver, "Late", DeviceType.OUTPUT);
        assertEquals(1, d.opens.get());

        driver.rescan().get(10, TimeUnit.SECONDS);
        assertEquals(1, d.opens.get(), "no new attempt before the retry delay");
        assertSame(before, port(driver, "Late", DeviceType.OUTPUT), "same reason: same port, nobody told");
        assertEquals(List.of(), r.events);

        d.openFailure = null;
        nanos.addAndGet(TimeUnit.HOURS.toNanos(1));
        driver.rescan().get(10, TimeUnit.SECONDS);
        MidiPort after = port(driver, "Late", DeviceType.OUTPUT);
        assertTrue(after.availability().available());
        assertNotSame(before, after);
        assertEquals(List.of("removed output:Late", "added output:Late"), r.events);
    }

    @Test
    @Timeout(30)
    void rescanAddsAndRemovesPortsAndTellsListenersOnTheDriverThread() throws Exception {
        FakeMidi.Device a = midi.add("A", 1, 0);
        Recorder r = new Recorder();
        start();
        driver.addPortListener(r);
        driver.addPortListener(r); // twice: no effect

        FakeMidi.Device b = midi.add("B", 0, 1);
        driver.rescan().get(10, TimeUnit.SECONDS);
        assertEquals(List.of("output:A", "input:B"), names(driver));
        assertEquals(List.of("added input:B"), r.events);

        midi.remove(a);
        driver.rescan().get(10, TimeUnit.SECONDS);
        assertEquals(List.of("input:B"), names(driver));
        assertEquals(List.of("added input:B", "removed output:A"), r.events);
        assertEquals(1, a.closes.get(), "the device that went is closed");
        assertFalse(a.open);
        assertTrue(b.open);
        assertTrue(r.threads.stream().allMatch(JavaSoundMidiDriver.THREAD_NAME::equals), r.threads.toString());

        driver.removePortListener(r);
        midi.remove(b);
        driver.rescan().get(10, TimeUnit.SECONDS);
        assertEquals(List.of(), driver.ports());
        assertEquals(2, r.events.size(), "a removed listener hears nothing: " + r.events);
    }

    @Test
    @Timeout(30)
    void thePeriodicRescanFindsADevicePluggedInLater() throws Exception {
        Recorder r = new Recorder();
        start(100);
        driver.addPortListener(r);
        midi.add("Plugged", 1, 1);
        await().atMost(AWAIT).until(() -> r.events.size() == 2);
        assertEquals(List.of("added input:Plugged", "added output:Plugged"), r.events);
        assertEquals(100, driver.intervalMs());
    }

    @Test
    @Timeout(30)
    void duplicateNamesAreMadeUniqueAndKeptWhileTheDeviceStays() throws Exception {
        FakeMidi.Device first = midi.add("USB MIDI", 1, 0);
        midi.add("USB MIDI", 1, 0);
        midi.add("USB MIDI", 0, 1);
        midi.add("Bad\u0000name\n", 1, 0);
        midi.add("   ", 1, 0);
        start();
        assertEquals(List.of("output:USB MIDI", "output:USB MIDI #2", "input:USB MIDI", "output:Bad name",
                "output:MIDI device"), names(driver));

        midi.remove(first);
        driver.rescan().get(10, TimeUnit.SECONDS);
        midi.add("USB MIDI", 1, 0);
        driver.rescan().get(10, TimeUnit.SECONDS);
        assertEquals(List.of("output:USB MIDI #2", "input:USB MIDI", "output:Bad name", "output:MIDI device",
                "output:USB MIDI"), names(driver), "the second keeps its name; a new one takes the free one");
    }

    @Test
    @Timeout(30)
    void playSendsTheExactBytesInOrder() throws Exception {
        FakeMidi.Device d = midi.add("Out", 1, 0);
        start();
        List<MidiMessage> sent = List.of(MidiMessage.parseHex("90 3c 64"), MidiMessage.parseHex("c5 07"),
                MidiMessage.parseHex("f8"), MidiMessage.parseHex("f2 10 20"),
                MidiMessage.parseHex("f0 7e 7f 09 01 f7"), MidiMessage.parseHex("80 3c 00"));
        port(driver, "Out", DeviceType.OUTPUT).play(sent, NodeId.random());
        assertEquals(sent.size(), d.received.size());
        for (int i = 0; i < sent.size(); i++) {
            javax.sound.midi.MidiMessage got = d.received.get(i);
            assertArrayEquals(sent.get(i).toBytes(), got.getMessage(), "message " + i);
            assertEquals(sent.get(i).isSysEx(), got instanceof SysexMessage, "message " + i);
            assertEquals(-1L, d.receivedTimestamps.get(i), "sent for now");
        }
        assertThrows(IllegalArgumentException.class,
                () -> port(driver, "Out", DeviceType.OUTPUT).play(null, NodeId.random()));
    }

    @Test
    @Timeout(30)
    void playOnADeviceThatWentAwayThrows() throws Exception {
        FakeMidi.Device d = midi.add("Gone", 1, 0);
        start();
        MidiPort out = port(driver, "Gone", DeviceType.OUTPUT);
        midi.remove(d);
        driver.rescan().get(10, TimeUnit.SECONDS);
        assertThrows(IllegalStateException.class,
                () -> out.play(List.of(MidiMessage.parseHex("903c64")), NodeId.random()));
    }

    /** Records what an input produced. */
    private static final class Sink implements InputSink {
        final List<String> produced = new CopyOnWriteArrayList<>();

        @Override
        public void produced(MidiPort port, List<MidiMessage> messages) {
            messages.forEach(m -> produced.add(m.toHex() + "@none"));
        }

        @Override
        public void produced(MidiPort port, List<MidiMessage> messages, long timestampMicros) {
            messages.forEach(m -> produced.add(m.toHex() + "@" + timestampMicros));
        }
    }

    @Test
    @Timeout(30)
    void inputConvertsAndForwardsWithTheDeviceTimestamp() throws Exception {
        FakeMidi.Device d = midi.add("In", 0, 1);
        start();
        MidiPort in = port(driver, "In", DeviceType.INPUT);
        assertThrows(UnsupportedOperationException.class,
                () -> in.play(List.of(MidiMessage.parseHex("903c64")), NodeId.random()));
        Sink sink = new Sink();
        in.setInputSink(sink);

        d.position = 5_000_000; // the device clock: 5 s since it opened
        d.produce(new ShortMessage(0x90, 0x3c, 0x64), 4_999_000); // 1 ms ago on the device clock
        d.produce(new ShortMessage(0x80, 0x3c, 0x00), -1); // no timestamp
        d.position = -1; // a device without a clock
        d.produce(new ShortMessage(0xf8), 123);
        d.produce(new SysexMessage(new byte[] {(byte) 0xf0, 0x7e, (byte) 0xf7}, 3), -1);

        assertEquals(List.of("903c64@" + (EPOCH_NOW - 1_000), "803c00@none", "f8@none", "f07ef7@none"),
                sink.produced);
    }

    @Test
    @Timeout(30)
    void inputSkipsAndCountsWhatMidiMeshRejects() throws Exception {
        FakeMidi.Device d = midi.add("In", 0, 1);
        start();
        JavaSoundInputPort in = (JavaSoundInputPort) port(driver, "In", DeviceType.INPUT);
        Sink sink = new Sink();
        in.setInputSink(sink);
        d.produce(new javax.sound.midi.MetaMessage(0x2f, new byte[0], 0), 0); // ff 2f 00: a file's end of track
        d.produce(new SysexMessage(0xf7, new byte[] {0x01, (byte) 0xf7}, 2), -1); // continuation without a start
        d.produce(new ShortMessage(0x90, 0x3c, 0x64), -1);
        assertEquals(List.of("903c64@none"), sink.produced);
        assertEquals(2, in.rejected());
    }

    @Test
    @Timeout(30)
    void deactivateClosesEveryOpenedDeviceAndStopsTheThread() throws Exception {
        FakeMidi.Device a = midi.add("A", 1, 1);
        FakeMidi.Device failing = midi.add("B", 1, 0);
        failing.openFailure = "no";
        start();
        Recorder r = new Recorder();
        driver.addPortListener(r);
        MidiPort out = port(driver, "A", DeviceType.OUTPUT);
        assertTrue(a.open);
        driver.deactivate();
        JavaSoundMidiDriver stopped = driver;
        driver = null;
        assertFalse(a.open);
        assertEquals(1, a.closes.get());
        assertTrue(a.transmitters.get(0).closed);
        assertEquals(0, failing.closes.get(), "a device that never opened is not closed");
        assertEquals(List.of(), stopped.ports());
        assertEquals(List.of(), r.events, "nobody is told when the driver goes");
        assertThrows(IllegalStateException.class,
                () -> out.play(List.of(MidiMessage.parseHex("903c64")), NodeId.random()));
        await().atMost(AWAIT).until(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().equals(JavaSoundMidiDriver.THREAD_NAME)));
    }

    @Test
    @Timeout(30)
    void aBadIntervalFallsBackToTheDefault() throws Exception {
        start(5);
        assertEquals(JavaSoundMidiDriver.DEFAULT_RESCAN_INTERVAL_MS, driver.intervalMs());
        driver.modified(Configs.of(JavaSoundMidiDriver.Config.class, Map.of("rescan_interval_ms", 250L)));
        assertEquals(250, driver.intervalMs());
    }
}
