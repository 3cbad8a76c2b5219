package org.midimesh.driver.virtual.internal;

import org.midimesh.api.test.TestLocalNode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.driver.MidiDriver;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.driver.PortListener;
import org.midimesh.api.virtual.ReceivedLog;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.test.DeadlockWatchdog;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class VirtualMidiDriverTest {

    @TempDir
    Path dataDir;

    private VirtualMidiDriver driver() {
        return new VirtualMidiDriver(TestLocalNode.of("studio", dataDir));
    }

    private static List<String> names(MidiDriver d) {
        return d.ports().stream().map(p -> p.type().wireName() + ":" + p.name()).toList();
    }

    /** Records port events with the thread they came on. */
    static final class RecordingListener implements PortListener {
        final List<String> events = new CopyOnWriteArrayList<>();
        final List<Thread> threads = new CopyOnWriteArrayList<>();

        @Override
        public void portAdded(MidiDriver driver, MidiPort port) {
            events.add("+" + port.name());
            threads.add(Thread.currentThread());
        }

        @Override
        public void portRemoved(MidiDriver driver, MidiPort port) {
            events.add("-" + port.name());
            threads.add(Thread.currentThread());
        }
    }

    @Test
    void shouldOfferTheDefaultInputThenOutput() {
        VirtualMidiDriver d = driver();
        assertEquals("virtual", d.name());
        assertEquals(List.of("input:studio In", "output:studio Out"), names(d));
        assertInstanceOf(ReceivedLog.class, d.ports().get(1));
        assertFalse(d.ports().get(0) instanceof ReceivedLog);
    }

    @Test
    void shouldCreateFindAndDeletePorts() {
        VirtualMidiDriver d = driver();
        MidiPort synth = d.create("Synth", DeviceType.OUTPUT);
        MidiPort keys = d.create("Synth", DeviceType.INPUT);
        assertEquals(List.of("input:studio In", "output:studio Out", "output:Synth", "input:Synth"), names(d));
        assertSame(synth, d.find("Synth", DeviceType.OUTPUT).orElseThrow());
        assertSame(keys, d.find("Synth", DeviceType.INPUT).orElseThrow());

        assertTrue(d.delete("Synth", DeviceType.OUTPUT));
        assertFalse(d.delete("Synth", DeviceType.OUTPUT));
        assertTrue(d.find("Synth", DeviceType.OUTPUT).isEmpty());
        assertEquals(List.of("input:studio In", "output:studio Out", "input:Synth"), names(d));
    }

    @Test
    void shouldGiveARecreatedOutputAFreshLog() {
        VirtualMidiDriver d = driver();
        ReceivedLog first = (ReceivedLog) d.create("Synth", DeviceType.OUTPUT);
        ((MidiPort) first).play(List.of(MidiMessage.parseHex("903c64")), NodeId.random());
        d.delete("Synth", DeviceType.OUTPUT);
        ReceivedLog second = (ReceivedLog) d.create("Synth", DeviceType.OUTPUT);
        assertNotSame(first, second);
        assertEquals(0, second.read(0, 10).total());
    }

    static Stream<Arguments> badCreates() {
        return Stream.of(
                Arguments.of(null, DeviceType.INPUT, "name"),
                Arguments.of("", DeviceType.INPUT, "name"),
                Arguments.of("   ", DeviceType.OUTPUT, "name"),
                Arguments.of("x".repeat(65), DeviceType.OUTPUT, "name"),
                Arguments.of("tab\there", DeviceType.OUTPUT, "name"),
                Arguments.of("Synth", null, "type"),
                Arguments.of("studio In", DeviceType.INPUT, "name"));
    }

    @ParameterizedTest
    @MethodSource("badCreates")
    void shouldRejectBadCreatesNamingTheFieldAndChangeNothing(String name, DeviceType type, String field)
            throws IOException {
        VirtualMidiDriver d = driver();
        RecordingListener l = new RecordingListener();
        d.addPortListener(l);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.create(name, type));
        assertTrue(e.getMessage().startsWith(field), e.getMessage());
        assertEquals(2, d.ports().size());
        assertTrue(l.events.isEmpty());
        assertFalse(Files.exists(dataDir.resolve(VirtualPortStore.FILE_NAME)));
    }

    @Test
    void shouldRejectADuplicateNameAndType() {
        VirtualMidiDriver d = driver();
        d.create("Synth", DeviceType.OUTPUT);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> d.create("Synth", DeviceType.OUTPUT));
        assertTrue(e.getMessage().startsWith("name"), e.getMessage());
        assertEquals(3, d.ports().size());
    }

    @Test
    void shouldAcceptANameOfExactly64Characters() {
        VirtualMidiDriver d = driver();
        String name = "n".repeat(64);
        assertEquals(name, d.create(name, DeviceType.INPUT).name());
    }

    @Test
    void shouldRefuseToDeleteTheDefaultPorts() {
        VirtualMidiDriver d = driver();
        for (MidiPort p : d.ports()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> d.delete(p.name(), p.type()));
            assertEquals("the node's default ports cannot be deleted", e.getMessage());
        }
        assertEquals(2, d.ports().size());
        assertThrows(IllegalArgumentException.class, () -> d.delete(null, DeviceType.INPUT));
        assertThrows(IllegalArgumentException.class, () -> d.delete("x", null));
    }

    @Test
    void shouldBringCreatedPortsBackAfterARestart() {
        VirtualMidiDriver first = driver();
        first.create("Synth", DeviceType.OUTPUT);
        first.create("Pads", DeviceType.INPUT);
        first.create("Gone", DeviceType.INPUT);
        first.delete("Gone", DeviceType.INPUT);

        VirtualMidiDriver second = driver();
        assertEquals(List.of("input:studio In", "output:studio Out", "output:Synth", "input:Pads"), names(second));
        assertInstanceOf(ReceivedLog.class, second.find("Synth", DeviceType.OUTPUT).orElseThrow());
    }

    @Test
    void shouldLeaveNoTempFilesBehind() throws IOException {
        VirtualMidiDriver d = driver();
        d.create("A", DeviceType.INPUT);
        d.create("B", DeviceType.OUTPUT);
        d.delete("A", DeviceType.INPUT);
        try (Stream<Path> files = Files.list(dataDir)) {
            assertEquals(List.of(VirtualPortStore.FILE_NAME),
                    files.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void shouldMoveAnUnreadableFileAsideAndStartWithTheDefaults() throws IOException {
        Files.writeString(dataDir.resolve(VirtualPortStore.FILE_NAME), "{not json", StandardCharsets.UTF_8);
        VirtualMidiDriver d = driver();
        assertEquals(2, d.ports().size());
        try (Stream<Path> files = Files.list(dataDir)) {
            assertTrue(files.anyMatch(p -> p.getFileName().toString().startsWith("virtual-ports.json.corrupt-")));
        }
        d.create("Synth", DeviceType.OUTPUT);
        assertEquals(3, driver().ports().size());
    }

    @Test
    void shouldSkipBadStoredEntries() throws IOException {
        Files.writeString(dataDir.resolve(VirtualPortStore.FILE_NAME), """
                {"version":1,"ports":[
                  {"name":"Good","type":"output"},
                  {"name":"Bad","type":"sideways"},
                  {"name":"","type":"input"},
                  {"name":"studio In","type":"input"},
                  {"name":"Good","type":"output"},
                  {"type":"input"}
                ]}""", StandardCharsets.UTF_8);
        assertEquals(List.of("input:studio In", "output:studio Out", "output:Good"), names(driver()));
    }

    @Test
    void shouldReportCreateAndDeleteToListenersOnTheCallersThread() {
        VirtualMidiDriver d = driver();
        RecordingListener l = new RecordingListener();
        d.addPortListener(l);
        d.addPortListener(l); // added once only
        d.create("Synth", DeviceType.OUTPUT);
        d.delete("Synth", DeviceType.OUTPUT);
        assertEquals(List.of("+Synth", "-Synth"), l.events);
        assertTrue(l.threads.stream().allMatch(t -> t == Thread.currentThread()));

        d.removePortListener(l);
        d.create("Other", DeviceType.OUTPUT);
        assertEquals(2, l.events.size());
    }

    @Test
    void shouldKeepCallingListenersAfterOneThrows() {
        VirtualMidiDriver d = driver();
        d.addPortListener(new PortListener() {
            @Override
            public void portAdded(MidiDriver driver, MidiPort port) {
                throw new IllegalStateException("boom");
            }

            @Override
            public void portRemoved(MidiDriver driver, MidiPort port) {
                throw new IllegalStateException("boom");
            }
        });
        RecordingListener l = new RecordingListener();
        d.addPortListener(l);
        d.create("Synth", DeviceType.OUTPUT);
        assertEquals(List.of("+Synth"), l.events);
    }

    @Test
    @ExtendWith(DeadlockWatchdog.class)
    void shouldCallListenersWithoutHoldingTheAdminLock() {
        VirtualMidiDriver d = driver();
        List<String> fromOtherThread = new ArrayList<>();
        d.addPortListener(new PortListener() {
            @Override
            public void portAdded(MidiDriver driver, MidiPort port) {
                if (port.name().equals("First")) {
                    // Another thread must be able to create a port while we are inside the callback.
                    MidiPort second = CompletableFuture.supplyAsync(() -> d.create("Second", DeviceType.INPUT))
                            .orTimeout(5, TimeUnit.SECONDS).join();
                    fromOtherThread.add(second.name());
                }
            }

            @Override
            public void portRemoved(MidiDriver driver, MidiPort port) {
            }
        });
        d.create("First", DeviceType.INPUT);
        assertEquals(List.of("Second"), fromOtherThread);
        assertEquals(4, d.ports().size());
    }

    @Test
    void shouldExposeAnImmutableSnapshot() {
        VirtualMidiDriver d = driver();
        List<MidiPort> snapshot = d.ports();
        assertThrows(UnsupportedOperationException.class, () -> snapshot.clear());
        d.create("Synth", DeviceType.OUTPUT);
        assertEquals(2, snapshot.size());
    }

    @Test
    void shouldUseTheSmallerLogCapacityOfTheTestConstructor() {
        VirtualMidiDriver d = new VirtualMidiDriver(TestLocalNode.of("studio", dataDir), 4, Clock.systemUTC());
        MidiPort out = d.ports().get(1);
        List<MidiMessage> ten = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ten.add(ReceivedRingTest.msg(i));
        }
        out.play(ten, NodeId.random());
        ReceivedLog.Page p = ((ReceivedLog) out).read(0, 100);
        assertEquals(10, p.total());
        assertEquals(4, p.messages().size());
        assertEquals(7, p.messages().get(0).seq());
    }
}
