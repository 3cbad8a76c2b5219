package org.midimesh.devices.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.devices.DeviceListener;
import org.midimesh.api.devices.DeviceStatus;
import org.midimesh.api.devices.LocalDevice;
import org.midimesh.api.driver.Availability;
import org.midimesh.api.driver.MidiDriver;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.driver.PortListener;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.test.DeadlockWatchdog;
import org.midimesh.api.test.TestLocalNode;
import org.midimesh.devices.internal.FakeDriver.FakePort;

/**
 * The registry against drivers that throw, hang, are slow, flood, or list garbage: each is isolated, and the rest of
 * the node (other outputs, inputs, the device list) goes on.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
@ExtendWith(DeadlockWatchdog.class)
class MisbehavingDriverTest {

    private static final MidiMessage NOTE_ON = MidiMessage.parseHex("90 3c 64");
    private static final Duration WAIT = Duration.ofSeconds(5);
    /** Small limits so the tests are quick: 8 queued messages, a 200 ms hang limit, checked every 20 ms. */
    private static final LocalDeviceRegistry.Settings SMALL = new LocalDeviceRegistry.Settings(8, 200, 20);

    @TempDir
    Path dataDir;

    private final List<LocalDeviceRegistry> registries = new ArrayList<>();
    /** Released at the end so blocked plays end and their threads finish. */
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void stop() {
        release.countDown();
        registries.forEach(LocalDeviceRegistry::deactivate);
    }

    private LocalDeviceRegistry registry() {
        LocalDeviceRegistry r = new LocalDeviceRegistry(TestLocalNode.of(NodeId.random(), "studio", dataDir), SMALL);
        registries.add(r);
        return r;
    }

    private static int idOf(LocalDeviceRegistry r, String name) {
        return r.devices().stream().filter(d -> d.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no device " + name)).id();
    }

    /** Makes {@code port}'s play block until {@code until} opens; the latch returned opens once play was entered. */
    private static CountDownLatch blockPlay(FakePort port, CountDownLatch until) {
        CountDownLatch entered = new CountDownLatch(1);
        port.beforePlay = () -> {
            entered.countDown();
            awaitQuietly(until);
        };
        return entered;
    }

    /** For a play hook: waits for the latch, keeping an interrupt for the caller. */
    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void shouldMarkAnOutputWhosePlayThrowsUnavailableUntilAPlaySucceeds() {
        LocalDeviceRegistry r = registry();
        FakeDriver hw = new FakeDriver("hw");
        FakePort out = hw.addSilently("Synth", DeviceType.OUTPUT);
        r.addDriver(hw, "test");
        int id = idOf(r, "Synth");
        out.beforePlay = () -> {
            throw new IllegalStateException("device unplugged");
        };
        r.play(id, List.of(NOTE_ON), NodeId.random());
        await().atMost(WAIT).until(() -> r.status(id).orElseThrow().failures() == 1);
        DeviceStatus down = r.status(id).orElseThrow();
        assertFalse(down.available());
        assertTrue(down.reason().contains("device unplugged"), down.reason());
        out.beforePlay = () -> { };
        r.play(id, List.of(NOTE_ON), NodeId.random());
        await().atMost(WAIT).until(() -> r.status(id).orElseThrow().available());
        assertEquals(1, out.played.size());
        assertEquals(1, r.status(id).orElseThrow().played());
    }

    @Test
    void shouldNotLetAHungPlayDelayOtherOutputsOrTheCaller() {
        LocalDeviceRegistry r = registry();
        FakeDriver hw = new FakeDriver("hw");
        FakePort stuck = hw.addSilently("Stuck", DeviceType.OUTPUT);
        FakePort fine = hw.addSilently("Fine", DeviceType.OUTPUT);
        r.addDriver(hw, "test");
        int stuckId = idOf(r, "Stuck");
        int fineId = idOf(r, "Fine");
        CountDownLatch entered = blockPlay(stuck, release);
        NodeId peer = NodeId.random();
        r.play(stuckId, List.of(NOTE_ON), peer); // returns at once: only queued
        await().atMost(WAIT).until(() -> entered.getCount() == 0);
        for (int i = 1; i <= 20; i++) {
            r.play(fineId, List.of(NOTE_ON), peer);
            int played = i;
            await().atMost(WAIT).until(() -> fine.played.size() == played);
        }
        await().atMost(WAIT).until(() -> !r.status(stuckId).orElseThrow().available());
        String reason = r.status(stuckId).orElseThrow().reason();
        assertTrue(reason.startsWith("play has not returned for "), reason);
        // While hung, its messages are dropped at once and counted.
        r.play(stuckId, List.of(NOTE_ON, NOTE_ON), peer);
        assertEquals(2, r.status(stuckId).orElseThrow().dropped());
        release.countDown();
        await().atMost(WAIT).until(() -> r.status(stuckId).orElseThrow().available());
        r.play(stuckId, List.of(NOTE_ON), peer);
        await().atMost(WAIT).until(() -> stuck.played.size() == 2);
    }

    @Test
    void shouldDropAndCountWhatDoesNotFitBehindASlowOutput() {
        LocalDeviceRegistry r = registry();
        FakeDriver hw = new FakeDriver("hw");
        FakePort slow = hw.addSilently("Slow", DeviceType.OUTPUT);
        r.addDriver(hw, "test");
        int id = idOf(r, "Slow");
        CountDownLatch go = new CountDownLatch(1);
        CountDownLatch entered = blockPlay(slow, go);
        NodeId peer = NodeId.random();
        r.play(id, List.of(NOTE_ON), peer);
        await().atMost(WAIT).until(() -> entered.getCount() == 0);
        for (int i = 0; i < 20; i++) {
            r.play(id, List.of(NOTE_ON), peer); // 8 fit in the queue, 12 are dropped
        }
        DeviceStatus s = r.status(id).orElseThrow();
        assertEquals(8, s.queued());
        assertEquals(12, s.dropped());
        go.countDown();
        await().atMost(WAIT).until(() -> slow.played.size() == 9);
        assertEquals(0, r.status(id).orElseThrow().queued());
        assertEquals(9, r.status(id).orElseThrow().played());
    }

    @Test
    void shouldPlayEveryMessageOfAFloodInOrder() {
        LocalDeviceRegistry r = new LocalDeviceRegistry(TestLocalNode.of(NodeId.random(), "studio", dataDir),
                new LocalDeviceRegistry.Settings(100_000, 1000, 100));
        registries.add(r);
        FakeDriver hw = new FakeDriver("hw");
        FakePort out = hw.addSilently("Out", DeviceType.OUTPUT);
        FakePort in = hw.addSilently("In", DeviceType.INPUT);
        r.addDriver(hw, "test");
        int outId = idOf(r, "Out");
        List<Integer> heard = new CopyOnWriteArrayList<>();
        r.bindListener(new DeviceListener() {
            @Override
            public void inputProduced(LocalDevice input, List<MidiMessage> messages) {
                messages.forEach(m -> heard.add(m.byteAt(2)));
                r.play(outId, messages, NodeId.random()); // as a route to a local output would
            }
        });
        int n = 20_000;
        for (int i = 0; i < n; i++) {
            in.produce(List.of(MidiMessage.parseHex(String.format("90 3c %02x", i % 128))));
        }
        assertEquals(n, heard.size());
        await().atMost(WAIT).until(() -> out.played.size() == n);
        for (int i = 0; i < n; i++) {
            assertEquals(i % 128, out.played.get(i).messages().get(0).byteAt(2), "message " + i);
        }
        assertEquals(0, r.status(outId).orElseThrow().dropped());
    }

    @Test
    void shouldKeepTheOtherDriversWhenOneListsGarbage() {
        LocalDeviceRegistry r = registry();
        FakeDriver good = new FakeDriver("good");
        good.addSilently("Keys", DeviceType.INPUT);
        r.addDriver(good, "test");
        MidiPort nameless = new FakePort(null, DeviceType.INPUT);
        MidiPort typeless = new FakePort("No type", null);
        MidiPort longName = new FakePort("x".repeat(129), DeviceType.OUTPUT);
        MidiPort control = new FakePort("bell\u0007", DeviceType.OUTPUT);
        FakePort fine = new FakePort("Fine", DeviceType.OUTPUT);
        List<MidiPort> garbage = new ArrayList<>();
        garbage.add(null);
        garbage.addAll(List.of(nameless, typeless, longName, control, fine));
        r.addDriver(new ListDriver("garbage", () -> garbage), "test");
        r.addDriver(new ListDriver("thrower", () -> {
            throw new IllegalStateException("boom");
        }), "test");
        r.addDriver(new ListDriver("nulls", () -> null), "test");
        r.addDriver(new ListDriver("Bad Name", List::of), "test");
        r.addDriver(new ListDriver("remote", List::of), "test");
        assertEquals(List.of("Keys", "Fine"), r.devices().stream().map(LocalDevice::name).toList());
        assertEquals("garbage", r.devices().get(1).driver());
    }

    @Test
    void shouldShowAPortThatCannotBeUsedWithItsReason() {
        LocalDeviceRegistry r = registry();
        FakeDriver hw = new FakeDriver("hw");
        FakePort synth = hw.addSilently("Synth", DeviceType.OUTPUT);
        FakePort liar = hw.addSilently("Liar", DeviceType.INPUT);
        synth.availability = Availability.unavailable("no audio line");
        r.addDriver(hw, "test");
        liar.availability = null;
        DeviceStatus s = r.status(idOf(r, "Synth")).orElseThrow();
        assertFalse(s.available());
        assertEquals("no audio line", s.reason());
        DeviceStatus l = r.status(idOf(r, "Liar")).orElseThrow();
        assertFalse(l.available());
        assertEquals("the driver tells nothing about the port", l.reason());
        assertTrue(r.status(999).isEmpty());
    }

    @Test
    void shouldGiveIds1And2ToTheDefaultPortNamesWhateverDriverOffersThem() {
        LocalDeviceRegistry r = registry();
        FakeDriver other = new FakeDriver("other");
        other.addSilently("Pads", DeviceType.INPUT);
        other.addSilently("studio Out", DeviceType.OUTPUT);
        r.addDriver(other, "test");
        assertEquals(3, idOf(r, "Pads"));
        assertEquals(2, idOf(r, "studio Out"));
    }

    @Test
    void shouldDropWhatIsQueuedForAnOutputWhoseDriverGoes() {
        LocalDeviceRegistry r = registry();
        FakeDriver hw = new FakeDriver("hw");
        FakePort out = hw.addSilently("Out", DeviceType.OUTPUT);
        r.addDriver(hw, "test");
        int id = idOf(r, "Out");
        CountDownLatch entered = blockPlay(out, release);
        r.play(id, List.of(NOTE_ON), NodeId.random());
        await().atMost(WAIT).until(() -> entered.getCount() == 0);
        r.play(id, List.of(NOTE_ON), NodeId.random());
        r.removeDriver(hw);
        assertTrue(r.devices().isEmpty());
        release.countDown();
        await().atMost(WAIT).until(() -> out.played.size() == 1);
        assertEquals(1, out.played.size(), "nothing is played on a port after its driver went");
    }

    /** A driver whose port list comes from a supplier that may throw or return anything. */
    private static final class ListDriver implements MidiDriver {
        private final String name;
        private final java.util.function.Supplier<List<MidiPort>> ports;

        ListDriver(String name, java.util.function.Supplier<List<MidiPort>> ports) {
            this.name = name;
            this.ports = ports;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public List<MidiPort> ports() {
            return ports.get();
        }

        @Override
        public void addPortListener(PortListener listener) {
        }

        @Override
        public void removePortListener(PortListener listener) {
        }
    }
}
