package org.midimesh.example.clock.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.midimesh.api.DeviceType;
import org.midimesh.api.devices.DeviceStatus;
import org.midimesh.api.devices.LocalDevice;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.virtual.ReceivedLog;
import org.midimesh.testkit.MidiMeshOptions;
import org.midimesh.testkit.TestNode;
import org.midimesh.testkit.Wait;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;

/**
 * The clock driver in a real node: this module's jar installed next to the node's bundles by the test kit, its input
 * routed to the node's virtual output (device 2), and what that output played read back.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ClockDriverOsgiIT {

    private static final String PID = "org.midimesh.example.clock";
    private static final MidiMessage TICK = MidiMessage.of((byte) 0xF8);
    private static final MidiMessage START = MidiMessage.of((byte) 0xFA);
    private static final MidiMessage STOP = MidiMessage.of((byte) 0xFC);
    /** Allowed deviation of a measured tick rate from the tempo's. */
    private static final double TOLERANCE = 0.15;

    @Inject
    private BundleContext context;

    @Configuration
    public Option[] config() {
        return MidiMeshOptions.node("clock-it", MidiMeshOptions.plugin(MidiMeshOptions.projectBundle()));
    }

    @Test(timeout = 60_000)
    public void theClockIsAnAvailableInputOfDriverClock() {
        TestNode node = TestNode.of(context);
        LocalDevice clock = node.awaitDevice("clock", "Clock", DeviceType.INPUT);
        DeviceStatus status = node.status(clock.id());
        assertTrue("available: " + status, status.available());
        assertEquals("the node's virtual output keeps id 2", 2, node.virtualOutput());
    }

    @Test(timeout = 120_000)
    public void ticksFollowTheTempoAndStopAndStartFollowTheConfiguration() {
        TestNode node = TestNode.of(context);
        int clock = node.awaitDeviceId("clock", "Clock");
        int out = node.virtualOutput();
        node.route(clock, out);

        node.configure(PID, Map.of("bpm", 120.0, "running", true));
        assertRate(node, out, 48.0); // 24 ticks a quarter note, 2 quarter notes a second

        node.configure(PID, Map.of("bpm", 240.0, "running", true));
        // The change reaches the component on ConfigAdmin's thread: first wait until the rate has moved on...
        Wait.until("the tick rate follows 240 BPM", Duration.ofSeconds(20),
                () -> rate(node.awaitReceived(out, node.mark(out), 25, TICK::equals)),
                r -> Math.abs(r - 96.0) <= 96.0 * TOLERANCE, r -> r + " ticks/s");
        // ...then measure it over about two seconds.
        assertRate(node, out, 96.0);

        long beforeStop = node.mark(out);
        node.configure(PID, Map.of("bpm", 240.0, "running", false));
        ReceivedLog.Received stop = node.awaitReceived(out, beforeStop, 1, STOP::equals).get(0);
        node.configure(PID, Map.of("bpm", 240.0, "running", true));
        ReceivedLog.Received start = node.awaitReceived(out, stop.seq(), 1, START::equals).get(0);
        List<ReceivedLog.Received> between = node.received(out, stop.seq()).stream()
                .filter(r -> r.seq() < start.seq()).toList();
        assertEquals("nothing between stop and start", List.of(), between);
        List<ReceivedLog.Received> resumed = node.awaitReceived(out, start.seq(), 24, TICK::equals);
        assertTrue("ticks again after start: " + resumed.size(), resumed.size() >= 24);
    }

    /** Counts about two seconds of ticks from now and checks their rate. */
    private static void assertRate(TestNode node, int out, double expectedPerSecond) {
        int count = (int) Math.round(2 * expectedPerSecond);
        List<ReceivedLog.Received> ticks = node.awaitReceived(out, node.mark(out), count, TICK::equals);
        double rate = rate(ticks);
        assertTrue("tick rate " + rate + "/s, expected " + expectedPerSecond + " +-" + (int) (TOLERANCE * 100) + "%",
                Math.abs(rate - expectedPerSecond) <= expectedPerSecond * TOLERANCE);
    }

    /** Ticks per second between the first and the last of {@code ticks}, by the times they were played. */
    private static double rate(List<ReceivedLog.Received> ticks) {
        long span = ticks.get(ticks.size() - 1).receivedAtMicros() - ticks.get(0).receivedAtMicros();
        return span <= 0 ? Double.POSITIVE_INFINITY : (ticks.size() - 1) * 1e6 / span;
    }
}
