package org.midimesh.load.driver.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.midimesh.api.DeviceType;
import org.midimesh.api.driver.Availability;
import org.midimesh.api.driver.InputSink;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.test.Configs;

/** The component built with its constructor, on the real clock and its own generator thread, in loopback. */
@Timeout(30)
class LoadDriverTest {

    @TempDir
    Path dir;

    private LoadDriver driver;

    @AfterEach
    void deactivate() throws InterruptedException {
        if (driver != null) {
            driver.deactivate();
        }
    }

    /** The configuration; keys are the Config method names (lead__ms for lead_ms). */
    private static LoadDriver.Config config(Object... keyValues) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], keyValues[i + 1]);
        }
        return Configs.of(LoadDriver.Config.class, m);
    }

    private LoadDriver driver(LoadDriver.Config config) {
        driver = new LoadDriver(config, dir, new Recorder(), System::nanoTime, LockSupport::parkNanos);
        return driver;
    }

    /** Routes Load Gen to Load Rec, as a route through the mesh would (without the delivery thread). */
    private static void loopBack(LoadDriver d) {
        MidiPort gen = d.ports().get(0);
        MidiPort rec = d.ports().get(1);
        gen.setInputSink(new InputSink() {
            @Override
            public void produced(MidiPort port, List<MidiMessage> messages) {
                rec.play(messages, null);
            }

            @Override
            public void produced(MidiPort port, List<MidiMessage> messages, long timestampMicros) {
                rec.play(messages, null);
            }
        });
    }

    @Test
    void twoPortsAlwaysAvailable() {
        LoadDriver d = driver(config());
        assertEquals("loadtest", d.name());
        assertEquals(List.of("Load Gen", "Load Rec"), d.ports().stream().map(MidiPort::name).toList());
        assertEquals(List.of(DeviceType.INPUT, DeviceType.OUTPUT), d.ports().stream().map(MidiPort::type).toList());
        assertTrue(d.ports().stream().allMatch(p -> p.availability().equals(Availability.AVAILABLE)));
        assertNull(d.generatorThread(), "no run without a run id");
    }

    @Test
    void aRunInTheConfigurationAtActivationIsNotStartedAgain() throws IOException {
        // The bundle was updated or restarted after run r0: its configuration still names r0. Starting r0 again would
        // send an old schedule into whatever run the load tool starts next.
        LoadDriver d = driver(config("run", "r0", "generate", true, "rate", 1000.0, "seconds", 1.0, "lead__ms", 0L));
        assertNull(d.generatorThread(), "r0 is from before this activation");
        assertFalse(Files.exists(dir.resolve("r0.started")));
        d.modified(config("run", "r0", "generate", true, "rate", 1000.0, "seconds", 1.0, "lead__ms", 0L));
        assertNull(d.generatorThread(), "the same run id again is not a new run");

        loopBack(d);
        d.modified(config("run", "r1", "generate", true, "rate", 20_000.0, "seconds", 0.01, "lead__ms", 0L));
        await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(dir.resolve("r1.sent")));
        assertEquals(200, RunFiles.readSent(dir.resolve("r1.sent")).dueNanos().length, "a new run id starts a run");
    }

    @Test
    void aRunIsGeneratedRecordedAndCollectedIntoItsFiles() throws IOException {
        LoadDriver.Config run = config("run", "r1", "generate", true, "rate", 20_000.0, "seconds", 0.05, "lead__ms",
                0L);
        LoadDriver d = driver(config());
        loopBack(d); // before the run starts: with lead_ms 0, messages sent before it would be lost
        d.modified(run);
        Path sentFile = dir.resolve("r1.sent");
        await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(sentFile));
        assertEquals("midimesh-loadgen", d.generatorThread().getName());

        RunFiles.Sent sent = RunFiles.readSent(sentFile);
        assertEquals(1000, sent.dueNanos().length);
        for (int i = 0; i < 1000; i++) {
            assertEquals(sent.dueNanos()[0] + i * 50_000L, sent.dueNanos()[i]);
            assertTrue(sent.sentNanos()[i] >= sent.dueNanos()[i]);
        }

        d.modified(config("run", "r1", "generate", true, "rate", 20_000.0, "seconds", 0.05, "lead__ms", 0L,
                "collect", "r1"));
        RunFiles.Received got = RunFiles.readReceived(dir.resolve("r1.received"));
        // loopback: the sink plays at once, on the generator thread
        assertArrayEquals(IntStream.range(0, 1000).toArray(), got.seqs(), "every message once, in order");
        assertEquals(0, got.foreign());
        for (int i = 0; i < 1000; i++) {
            assertTrue(got.arrivalNanos()[i] >= sent.sentNanos()[i]);
        }
    }

    @Test
    void aNewRunResetsTheRecorderAndAReceiverDoesNotGenerate() throws IOException {
        LoadDriver d = driver(config("run", "a"));
        assertNull(d.generatorThread());
        MidiPort rec = d.ports().get(1);
        rec.play(List.of(MidiMessage.parseHex("90 00 05"), MidiMessage.parseHex("f8")), null);
        d.modified(config("run", "a", "collect", "a"));
        RunFiles.Received a = RunFiles.readReceived(dir.resolve("a.received"));
        assertArrayEquals(new int[] {5}, a.seqs());
        assertEquals(1, a.foreign());

        d.modified(config("run", "b", "collect", "b"));
        assertEquals(0, RunFiles.readReceived(dir.resolve("b.received")).seqs().length);
    }

    @Test
    void collectOfAnotherRunWritesNothing() {
        LoadDriver d = driver(config("run", "a"));
        d.modified(config("run", "a", "collect", "b"));
        assertFalse(Files.exists(dir.resolve("b.received")));
        assertFalse(Files.exists(dir.resolve("a.received")));
    }

    @Test
    void badRunIdsAndTooLargeRunsAreRefused() {
        LoadDriver d = driver(config("run", "../etc/x", "generate", true));
        assertNull(d.generatorThread());
        d.modified(config("run", "big", "generate", true, "rate", 2_000_000.0, "seconds", 1.0));
        assertNull(d.generatorThread());
        d.modified(config("run", "big", "collect", "big"));
        assertTrue(Files.exists(dir.resolve("big.received")), "the run id was taken; only generation was refused");
    }

    @Test
    void aNewRunCancelsTheOneInProgress() throws InterruptedException {
        LoadDriver d = driver(config());
        d.modified(config("run", "long", "generate", true, "rate", 1.0, "seconds", 60.0));
        Thread first = d.generatorThread();
        assertTrue(first.isAlive());
        d.modified(config("run", "short", "generate", true, "rate", 1000.0, "seconds", 0.01, "lead__ms", 0L));
        assertFalse(first.isAlive());
        await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(dir.resolve("short.sent")));
        assertFalse(Files.exists(dir.resolve("long.sent")));
    }
}
