package org.midimesh.devices.internal;

import org.midimesh.api.test.TestLocalNode;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.devices.DeviceListener;
import org.midimesh.api.devices.LocalDevice;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.test.DeadlockWatchdog;
import org.midimesh.devices.internal.FakeDriver.FakePort;
import org.midimesh.devices.internal.FakeDriver.Played;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class LocalDeviceRegistryTest {

    private static final MidiMessage NOTE_ON = MidiMessage.parseHex("90 3c 64");
    private static final MidiMessage NOTE_OFF = MidiMessage.parseHex("80 3c 00");
    private static final MidiMessage SYSEX = MidiMessage.parseHex("f0 7e 7f 06 01 f7");

    @TempDir
    Path dataDir;

    private final NodeId nodeId = NodeId.random();

    private LocalDeviceRegistry registry() {
        return new LocalDeviceRegistry(TestLocalNode.of(nodeId, "studio", dataDir));
    }

    /** Records every event with a copy of what it carried. */
    static class RecordingListener implements DeviceListener {
        record Produced(LocalDevice input, List<MidiMessage> messages) {
        }

        final List<Produced> produced = new CopyOnWriteArrayList<>();
        final List<List<LocalDevice>> changes = new CopyOnWriteArrayList<>();

        @Override
        public void inputProduced(LocalDevice input, List<MidiMessage> messages) {
            produced.add(new Produced(input, messages));
        }

        @Override
        public void devicesChanged(List<LocalDevice> devices) {
            changes.add(devices);
        }
    }

    private static Map<String, Integer> idsByName(LocalDeviceRegistry r) {
        Map<String, Integer> out = new HashMap<>();
        for (LocalDevice d : r.devices()) {
            out.put(d.driver() + "/" + d.type().wireName() + "/" + d.name(), d.id());
        }
        return out;
    }

    private static int idOf(LocalDeviceRegistry r, String name, DeviceType type) {
        return r.devices().stream().filter(d -> d.name().equals(name) && d.type() == type).findFirst()
                .orElseThrow(() -> new AssertionError("no device " + name)).id();
    }

    // ---- ids ---------------------------------------------------------------------------------------------------

    @Test
    void shouldGiveTheDefaultPortsIds1And2OnAFreshDataDir() {
        LocalDeviceRegistry r = registry();
        r.addDriver(FakeDriver.virtual("studio"), "test");
        assertEquals(List.of(new LocalDevice(1, "studio In", DeviceType.INPUT, "virtual"),
                new LocalDevice(2, "studio Out", DeviceType.OUTPUT, "virtual")), r.devices());
        assertTrue(Files.exists(dataDir.resolve(DeviceIdStore.FILE_NAME)));
    }

    @Test
    void shouldKeep1And2ForTheDefaultPortsWhenAnotherDriverBindsFirst() {
        LocalDeviceRegistry r = registry();
        FakeDriver hw = new FakeDriver("javasound");
        hw.addSilently("USB Keys", DeviceType.INPUT);
        hw.addSilently("USB Synth", DeviceType.OUTPUT);
        r.addDriver(hw, "test");
        r.addDriver(FakeDriver.virtual("studio"), "test");
        assertEquals(Map.of("virtual/input/studio In", 1, "virtual/output/studio Out", 2,
                "javasound/input/USB Keys", 3, "javasound/output/USB Synth", 4), idsByName(r));
        assertEquals(List.of(1, 2, 3, 4), r.devices().stream().map(LocalDevice::id).toList());
    }

    @Test
    void shouldKeepIdsAcrossARestartEvenWhenPortsComeInAnotherOrder() {
        LocalDeviceRegistry first = registry();
        FakeDriver virtual = FakeDriver.virtual("studio");
        first.addDriver(virtual, "test");
        virtual.add("Pads", DeviceType.INPUT);
        virtual.add("Synth", DeviceType.OUTPUT);
        FakeDriver hw = new FakeDriver("javasound");
        first.addDriver(hw, "test");
        hw.add("USB Keys", DeviceType.INPUT);
        hw.add("USB Keys", DeviceType.OUTPUT);
        Map<String, Integer> before = idsByName(first);
        assertEquals(6, before.size());
        first.deactivate();

        LocalDeviceRegistry second = registry();
        FakeDriver hw2 = new FakeDriver("javasound");
        hw2.addSilently("USB Keys", DeviceType.OUTPUT);
        hw2.addSilently("USB Keys", DeviceType.INPUT);
        second.addDriver(hw2, "test");
        FakeDriver virtual2 = new FakeDriver("virtual");
        virtual2.addSilently("Synth", DeviceType.OUTPUT);
        virtual2.addSilently("studio Out", DeviceType.OUTPUT);
        virtual2.addSilently("Pads", DeviceType.INPUT);
        virtual2.addSilently("studio In", DeviceType.INPUT);
        second.addDriver(virtual2, "test");
        assertEquals(before, idsByName(second));
    }

    @Test
    void shouldGiveARecreatedPortItsOldIdAndNeverReuseAnId() {
        LocalDeviceRegistry r = registry();
        FakeDriver virtual = FakeDriver.virtual("studio");
        r.addDriver(virtual, "test");
        FakePort synth = virtual.add("Synth", DeviceType.OUTPUT);
        assertEquals(3, idOf(r, "Synth", DeviceType.OUTPUT));
        virtual.remove(synth);
        assertTrue(r.find(3).isEmpty());

        virtual.add("Pads", DeviceType.INPUT);
        assertEquals(4, idOf(r, "Pads", DeviceType.INPUT), "id 3 belongs to Synth forever");
        FakePort again = virtual.add("Synth", DeviceType.OUTPUT);
        assertEquals(3, idOf(r, "Synth", DeviceType.OUTPUT));
        assertSame(again, r.port(3).orElseThrow());
    }

    @Test
    void shouldRememberIdsOfPortsThatAreGoneAtRestart() {
        LocalDeviceRegistry first = registry();
        FakeDriver virtual = FakeDriver.virtual("studio");
        first.addDriver(virtual, "test");
        virtual.remove(virtual.add("Old", DeviceType.OUTPUT));

        LocalDeviceRegistry second = registry();
        FakeDriver virtual2 = FakeDriver.virtual("studio");
        second.addDriver(virtual2, "test");
        virtual2.add("New", DeviceType.OUTPUT);
        virtual2.add("Old", DeviceType.OUTPUT);
        assertEquals(4, idOf(second, "New", DeviceType.OUTPUT));
        assertEquals(3, idOf(second, "Old", DeviceType.OUTPUT));
    }

    @Test
    void shouldMoveAnUnreadableIdFileAsideAndStartAfresh() throws IOException {
        Files.writeString(dataDir.resolve(DeviceIdStore.FILE_NAME), "[1,2", StandardCharsets.UTF_8);
        LocalDeviceRegistry r = registry();
        r.addDriver(FakeDriver.virtual("studio"), "test");
        assertEquals(List.of(1, 2), r.devices().stream().map(LocalDevice::id).toList());
        try (Stream<Path> files = Files.list(dataDir)) {
            assertTrue(files.anyMatch(p -> p.getFileName().toString().startsWith("devices.json.corrupt-")));
        }
    }

    @Test
    void shouldSkipBadEntriesOfTheIdFile() throws IOException {
        Files.writeString(dataDir.resolve(DeviceIdStore.FILE_NAME), """
                {"virtual/input/studio In": 1, "virtual/output/studio Out": 2,
                 "x/input/a": 0, "x/input/b": "three", "x/input/c": 70000, "x/input/d": 2,
                 "virtual/output/Synth": 7}""", StandardCharsets.UTF_8);
        LocalDeviceRegistry r = registry();
        FakeDriver virtual = FakeDriver.virtual("studio");
        r.addDriver(virtual, "test");
        virtual.add("Synth", DeviceType.OUTPUT);
        virtual.add("Next", DeviceType.OUTPUT);
        assertEquals(Map.of("virtual/input/studio In", 1, "virtual/output/studio Out", 2,
                "virtual/output/Synth", 7, "virtual/output/Next", 3), idsByName(r));
    }

    @Test
    void shouldLeaveOutPortsWithoutAUsableName() {
        LocalDeviceRegistry r = registry();
        FakeDriver d = new FakeDriver("odd");
        d.addSilently(" ", DeviceType.INPUT);
        d.addSilently("Twice", DeviceType.INPUT);
        d.addSilently("Twice", DeviceType.INPUT);
        r.addDriver(d, "test");
        assertEquals(1, r.devices().size());
        assertSame(d.ports().get(1), r.port(r.devices().get(0).id()).orElseThrow());
    }

    // ---- drivers coming and going ------------------------------------------------------------------------------

    @Test
    void shouldDropADriversDevicesWhenItGoesAndGiveThemBackWhenItReturns() {
        LocalDeviceRegistry r = registry();
        RecordingListener l = new RecordingListener();
        r.bindListener(l);
        FakeDriver virtual = FakeDriver.virtual("studio");
        r.addDriver(virtual, "test");
        FakeDriver hw = new FakeDriver("javasound");
        hw.addSilently("USB Keys", DeviceType.INPUT);
        r.addDriver(hw, "test");
        FakePort keys = hw.port("USB Keys", DeviceType.INPUT);
        assertTrue(keys.sink != null);

        r.removeDriver(hw);
        assertEquals(List.of(1, 2), r.devices().stream().map(LocalDevice::id).toList());
        assertNull(keys.sink, "the sink is taken back");
        assertTrue(hw.listeners.isEmpty(), "the registry stops listening");
        assertEquals(r.devices(), l.changes.get(l.changes.size() - 1));

        r.addDriver(hw, "test");
        assertEquals(3, idOf(r, "USB Keys", DeviceType.INPUT));
    }

    @Test
    void shouldLetASecondDriverOfTheSameNameTakeOverWhenTheFirstGoes() {
        LocalDeviceRegistry r = registry();
        FakeDriver a = new FakeDriver("javasound");
        a.addSilently("A", DeviceType.INPUT);
        FakeDriver b = new FakeDriver("javasound");
        b.addSilently("B", DeviceType.INPUT);
        r.addDriver(a, "test");
        r.addDriver(b, "test");
        assertEquals(List.of("A"), r.devices().stream().map(LocalDevice::name).toList());
        assertTrue(b.listeners.isEmpty());

        r.removeDriver(a);
        assertEquals(List.of("B"), r.devices().stream().map(LocalDevice::name).toList());
        assertEquals(1, b.listeners.size());
    }

    @Test
    void shouldEndWithTheDriversStateWhenEventsArriveInReverse() {
        LocalDeviceRegistry r = registry();
        FakeDriver virtual = FakeDriver.virtual("studio");
        r.addDriver(virtual, "test");
        // Two threads: one created X, the other deleted it; the removal is reported first.
        FakePort x = virtual.addSilently("X", DeviceType.OUTPUT);
        virtual.removeSilently(x);
        virtual.listeners.forEach(l -> l.portRemoved(virtual, x));
        virtual.listeners.forEach(l -> l.portAdded(virtual, x));
        assertEquals(List.of(1, 2), r.devices().stream().map(LocalDevice::id).toList());
        assertTrue(r.port(3).isEmpty());
    }

    @Test
    void shouldStopListeningAndTakeBackSinksWhenDeactivated() {
        LocalDeviceRegistry r = registry();
        FakeDriver virtual = FakeDriver.virtual("studio");
        r.addDriver(virtual, "test");
        FakePort in = virtual.port("studio In", DeviceType.INPUT);
        r.deactivate();
        assertTrue(virtual.listeners.isEmpty());
        assertNull(in.sink);
        assertTrue(r.devices().isEmpty());
        r.removeDriver(virtual); // SCR unbinds after deactivate: a no-op
    }

    // ---- send and play -----------------------------------------------------------------------------------------

    @Test
    void shouldHandMessagesSentToAnInputToEveryListenerInOrder() {
        LocalDeviceRegistry r = registry();
        r.addDriver(FakeDriver.virtual("studio"), "test");
        List<String> order = new CopyOnWriteArrayList<>();
        RecordingListener first = new RecordingListener() {
            @Override
            public void inputProduced(LocalDevice input, List<MidiMessage> messages) {
                order.add("first");
                super.inputProduced(input, messages);
            }
        };
        RecordingListener second = new RecordingListener() {
            @Override
            public void inputProduced(LocalDevice input, List<MidiMessage> messages) {
                order.add("second");
                super.inputProduced(input, messages);
            }
        };
        r.bindListener(first);
        r.bindListener(second);

        r.send(1, List.of(NOTE_ON, SYSEX, NOTE_OFF));
        r.send(1, List.of(NOTE_OFF));

        for (RecordingListener l : List.of(first, second)) {
            assertEquals(2, l.produced.size());
            assertEquals(r.find(1).orElseThrow(), l.produced.get(0).input());
            assertEquals(List.of(NOTE_ON, SYSEX, NOTE_OFF), l.produced.get(0).messages());
            assertEquals(List.of(NOTE_OFF), l.produced.get(1).messages());
        }
        assertEquals(List.of("first", "second", "first", "second"), order);

        r.unbindListener(first);
        r.send(1, List.of(NOTE_ON));
        assertEquals(2, first.produced.size());
        assertEquals(3, second.produced.size());
    }

    @Test
    void shouldPlayMessagesSentToAnOutputWithThisNodeAsSource() {
        LocalDeviceRegistry r = registry();
        FakeDriver virtual = FakeDriver.virtual("studio");
        r.addDriver(virtual, "test");
        RecordingListener l = new RecordingListener();
        r.bindListener(l);
        r.send(2, List.of(NOTE_ON, NOTE_OFF));
        FakePort out = virtual.port("studio Out", DeviceType.OUTPUT);
        await().atMost(Duration.ofSeconds(5)).until(() -> !out.played.isEmpty());
        assertEquals(List.of(new Played(List.of(NOTE_ON, NOTE_OFF), nodeId)), List.copyOf(out.played));
        assertTrue(l.produced.isEmpty());
    }

    @Test
    void shouldPlayOnAnOutputWithTheGivenSource() {
        LocalDeviceRegistry r = registry();
        FakeDriver virtual = FakeDriver.virtual("studio");
        r.addDriver(virtual, "test");
        NodeId peer = NodeId.random();
        r.play(2, List.of(SYSEX), peer);
        FakePort out = virtual.port("studio Out", DeviceType.OUTPUT);
        await().atMost(Duration.ofSeconds(5)).until(() -> !out.played.isEmpty());
        assertEquals(List.of(new Played(List.of(SYSEX), peer)), List.copyOf(out.played));
    }

    private static int idOf(LocalDeviceRegistry r, String name) {
        return r.devices().stream().filter(d -> d.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no device " + name)).id();
    }

    @Test
    void shouldPlayAnImmediatePortOnTheCallingThreadAndOthersOnTheirDeliveryThread() {
        LocalDeviceRegistry r = registry();
        FakeDriver d = new FakeDriver("mixed");
        FakePort fast = d.addImmediateOutputSilently("Fast");
        FakePort slow = d.addSilently("Slow", DeviceType.OUTPUT);
        List<String> fastThreads = new CopyOnWriteArrayList<>();
        List<String> slowThreads = new CopyOnWriteArrayList<>();
        fast.beforePlay = () -> fastThreads.add(Thread.currentThread().getName());
        slow.beforePlay = () -> slowThreads.add(Thread.currentThread().getName());
        r.addDriver(d, "test");
        NodeId peer = NodeId.random();
        r.play(idOf(r, "Fast"), List.of(NOTE_ON), peer);
        r.play(idOf(r, "Slow"), List.of(NOTE_ON), peer);
        assertEquals(List.of(new Played(List.of(NOTE_ON), peer)), List.copyOf(fast.played),
                "played before play returned");
        assertEquals(List.of(Thread.currentThread().getName()), fastThreads);
        await().atMost(Duration.ofSeconds(5)).until(() -> !slow.played.isEmpty());
        assertEquals(1, slowThreads.size());
        assertTrue(slowThreads.get(0).startsWith("midimesh-output-"), slowThreads.toString());
    }

    @Test
    void shouldRejectUnknownIdsInputsAndMissingArguments() {
        LocalDeviceRegistry r = registry();
        FakeDriver virtual = FakeDriver.virtual("studio");
        r.addDriver(virtual, "test");
        NodeId peer = NodeId.random();
        assertThrows(NoSuchElementException.class, () -> r.send(99, List.of(NOTE_ON)));
        assertThrows(NoSuchElementException.class, () -> r.play(99, List.of(NOTE_ON), peer));
        assertThrows(NoSuchElementException.class, () -> r.send(0, List.of(NOTE_ON)));
        IllegalArgumentException input = assertThrows(IllegalArgumentException.class,
                () -> r.play(1, List.of(NOTE_ON), peer));
        assertTrue(input.getMessage().contains("input"), input.getMessage());
        assertEquals("messages is missing",
                assertThrows(IllegalArgumentException.class, () -> r.send(2, null)).getMessage());
        assertEquals("messages[1] is missing", assertThrows(IllegalArgumentException.class,
                () -> r.send(2, Arrays.asList(NOTE_ON, null))).getMessage());
        assertEquals("source is missing",
                assertThrows(IllegalArgumentException.class, () -> r.play(2, List.of(NOTE_ON), null)).getMessage());
        assertTrue(virtual.port("studio Out", DeviceType.OUTPUT).played.isEmpty(), "nothing of a bad call is played");
        assertTrue(r.find(99).isEmpty());
        assertTrue(r.port(99).isEmpty());
    }

    @Test
    void shouldFeedWhatAnInputPortProducesToTheListeners() {
        LocalDeviceRegistry r = registry();
        FakeDriver hw = new FakeDriver("javasound");
        r.addDriver(FakeDriver.virtual("studio"), "test");
        r.addDriver(hw, "test");
        RecordingListener l = new RecordingListener();
        r.bindListener(l);
        FakePort keys = hw.add("USB Keys", DeviceType.INPUT);
        keys.produce(List.of(NOTE_ON, NOTE_OFF));
        assertEquals(1, l.produced.size());
        assertEquals(new LocalDevice(3, "USB Keys", DeviceType.INPUT, "javasound"), l.produced.get(0).input());
        assertEquals(List.of(NOTE_ON, NOTE_OFF), l.produced.get(0).messages());

        // A sink that a slow driver still holds after the port went delivers nothing.
        var stale = keys.sink;
        hw.remove(keys);
        assertNull(keys.sink);
        stale.produced(keys, List.of(NOTE_ON));
        assertEquals(1, l.produced.size());
    }

    // ---- listeners ---------------------------------------------------------------------------------------------

    @Test
    void shouldTellListenersAboutEveryChangeWithTheNewSnapshot() {
        LocalDeviceRegistry r = registry();
        RecordingListener l = new RecordingListener();
        r.bindListener(l);
        FakeDriver virtual = FakeDriver.virtual("studio");
        r.addDriver(virtual, "test");
        assertEquals(List.of(List.of(1, 2)), ids(l.changes));
        FakePort synth = virtual.add("Synth", DeviceType.OUTPUT);
        virtual.remove(synth);
        assertEquals(List.of(List.of(1, 2), List.of(1, 2, 3), List.of(1, 2)), ids(l.changes));
    }

    private static List<List<Integer>> ids(List<List<LocalDevice>> changes) {
        return changes.stream().map(c -> c.stream().map(LocalDevice::id).toList()).toList();
    }

    @Test
    void shouldKeepCallingListenersAfterOneThrows() {
        LocalDeviceRegistry r = registry();
        r.bindListener(new DeviceListener() {
            @Override
            public void inputProduced(LocalDevice input, List<MidiMessage> messages) {
                throw new IllegalStateException("boom");
            }

            @Override
            public void devicesChanged(List<LocalDevice> devices) {
                throw new OutOfMemoryError("pretend");
            }
        });
        RecordingListener l = new RecordingListener();
        r.bindListener(l);
        r.addDriver(FakeDriver.virtual("studio"), "test");
        r.send(1, List.of(NOTE_ON));
        r.send(1, List.of(NOTE_ON));
        assertEquals(1, l.changes.size());
        assertEquals(2, l.produced.size());
    }

    @Test
    @ExtendWith(DeadlockWatchdog.class)
    void shouldCallListenersWithoutHoldingTheLock() {
        LocalDeviceRegistry r = registry();
        FakeDriver virtual = FakeDriver.virtual("studio");
        r.addDriver(virtual, "test");
        List<Integer> seenFromOtherThread = new CopyOnWriteArrayList<>();
        r.bindListener(new DeviceListener() {
            @Override
            public void devicesChanged(List<LocalDevice> devices) {
                if (devices.size() == 3) {
                    // Another thread changes the registry while we are inside the callback.
                    CompletableFuture.runAsync(() -> virtual.add("Second", DeviceType.INPUT))
                            .orTimeout(5, TimeUnit.SECONDS).join();
                    seenFromOtherThread.add(r.devices().size());
                }
            }

            @Override
            public void inputProduced(LocalDevice input, List<MidiMessage> messages) {
                CompletableFuture.runAsync(() -> r.send(2, messages)).orTimeout(5, TimeUnit.SECONDS).join();
            }
        });
        virtual.add("First", DeviceType.INPUT);
        assertEquals(List.of(4), seenFromOtherThread);
        r.send(1, List.of(NOTE_ON));
        FakePort out = virtual.port("studio Out", DeviceType.OUTPUT);
        await().atMost(Duration.ofSeconds(5)).until(() -> out.played.size() == 1);
    }

    @Test
    void shouldPublishAnImmutableSnapshotOrderedById() {
        LocalDeviceRegistry r = registry();
        FakeDriver hw = new FakeDriver("javasound");
        hw.addSilently("Z", DeviceType.INPUT);
        r.addDriver(hw, "test");
        r.addDriver(FakeDriver.virtual("studio"), "test");
        List<LocalDevice> snapshot = r.devices();
        assertEquals(List.of(1, 2, 3), snapshot.stream().map(LocalDevice::id).toList());
        assertThrows(UnsupportedOperationException.class, () -> snapshot.remove(0));
        hw.add("Y", DeviceType.OUTPUT);
        assertEquals(3, snapshot.size(), "a snapshot never changes");
        assertEquals(4, r.devices().size());
    }

    // ---- concurrency -------------------------------------------------------------------------------------------

    @Test
    @ExtendWith(DeadlockWatchdog.class)
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shouldMatchTheDriverAfterConcurrentChangesAndSends() throws Exception {
        LocalDeviceRegistry r = registry();
        FakeDriver virtual = FakeDriver.virtual("studio");
        r.addDriver(virtual, "test");
        RecordingListener l = new RecordingListener();
        r.bindListener(l);
        int threads = 4;
        int rounds = 200;
        ExecutorService pool = Executors.newFixedThreadPool(threads + 1, t -> new Thread(t, "midimesh-test-churn"));
        Map<String, Set<Integer>> idsSeen = new ConcurrentHashMap<>();
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int me = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < rounds; i++) {
                        String name = "P" + (i % 5) + "-" + me;
                        FakePort p = virtual.add(name, (i & 1) == 0 ? DeviceType.INPUT : DeviceType.OUTPUT);
                        r.devices().stream().filter(d -> d.name().equals(name)).forEach(
                                d -> idsSeen.computeIfAbsent(d.type() + name, k -> ConcurrentHashMap.newKeySet())
                                        .add(d.id()));
                        r.send(1, List.of(NOTE_ON));
                        r.send(2, List.of(NOTE_OFF));
                        virtual.remove(p);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(25, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(5, TimeUnit.SECONDS));
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> r.devices().size() == virtual.ports().size());
        assertEquals(virtual.ports(), r.devices().stream().map(d -> r.port(d.id()).orElseThrow()).toList());
        assertEquals(threads * rounds, l.produced.size());
        FakePort out = virtual.port("studio Out", DeviceType.OUTPUT);
        await().atMost(Duration.ofSeconds(5)).until(() -> out.played.size() == threads * rounds);
        Set<Integer> all = new HashSet<>();
        for (Set<Integer> s : idsSeen.values()) {
            assertEquals(1, s.size(), "a key keeps its id");
            assertTrue(all.addAll(s), "an id belongs to one key");
        }
    }

    @Test
    void shouldExposeThePortOfADevice() {
        LocalDeviceRegistry r = registry();
        FakeDriver virtual = FakeDriver.virtual("studio");
        r.addDriver(virtual, "test");
        MidiPort out = r.port(2).orElseThrow();
        assertSame(virtual.port("studio Out", DeviceType.OUTPUT), out);
    }
}
