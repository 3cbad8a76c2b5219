package org.midimesh.devices.internal;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;

import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.devices.LocalDevice;
import org.midimesh.api.driver.ImmediatePlay;
import org.midimesh.api.driver.InputSink;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.transport.DataFrame;
import org.midimesh.common.Warmups;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The warm-up of output delivery ({@link LocalDeviceRegistry#warmUp}): six private {@link OutputLane}s, to made-up
 * outputs that only count, and {@link Warmups#ROUNDS} batches offered to them in turn (as the receive thread offers).
 * Three ports are played on the delivery pool, three are {@link ImmediatePlay} ports played inline on this thread (as
 * the virtual driver's are), so both ways through the lane are compiled. Three classes of each, so the JIT compiles
 * the lane's call to {@code play} for any port class (see {@link Warmups#strategy}). The lanes are closed at the end.
 * Runs on the calling thread and the pool's threads; the count is a {@link LongAdder} (it publishes nothing else).
 */
final class DeliveryWarmup {

    private static final Logger LOG = LoggerFactory.getLogger(DeliveryWarmup.class);

    private DeliveryWarmup() {
    }

    static String run(Executor pool, int capacity, long inlineLimitNanos, Duration budget) {
        long deadline = Warmups.deadline(budget);
        LongAdder played = new LongAdder();
        List<MidiPort> ports = List.of(new PortA(played), new InlineA(played), new PortB(played),
                new InlineB(played), new PortC(played), new InlineC(played));
        List<OutputLane> lanes = ports.stream().map(p -> new OutputLane(new LocalDevice(1, "warm-up",
                DeviceType.OUTPUT, "warm-up"), p, "the warm-up", pool, capacity, inlineLimitNanos)).toList();
        try {
            NodeId source = NodeId.random();
            List<List<MidiMessage>> batches = Warmups.frames(source).stream().map(DataFrame::messages).toList();
            int offered = Warmups.repeat(Warmups.ROUNDS, deadline, i -> {
                OutputLane lane = lanes.get(i % lanes.size());
                List<MidiMessage> batch = batches.get(i % batches.size());
                return Warmups.await(() -> lane.offer(batch, source), deadline, 100_000);
            });
            Warmups.await(() -> played.sum() >= offered, deadline, 200_000);
            return offered + " batches, " + played.sum() + " played";
        } catch (RuntimeException e) {
            LOG.warn("warm-up failed; the first messages may be late", e);
            return "failed: " + e;
        } finally {
            lanes.forEach(OutputLane::close);
        }
    }

    /** An output that counts what it plays. Subclassed only to give three classes. */
    private abstract static class CountingPort implements MidiPort {
        private final LongAdder played;

        CountingPort(LongAdder played) {
            this.played = played;
        }

        @Override
        public String name() {
            return "warm-up";
        }

        @Override
        public DeviceType type() {
            return DeviceType.OUTPUT;
        }

        @Override
        public void play(List<MidiMessage> messages, NodeId source) {
            played.increment();
        }

        @Override
        public void setInputSink(InputSink sink) {
        }
    }

    private static final class PortA extends CountingPort {
        PortA(LongAdder played) {
            super(played);
        }
    }

    private static final class PortB extends CountingPort {
        PortB(LongAdder played) {
            super(played);
        }
    }

    private static final class PortC extends CountingPort {
        PortC(LongAdder played) {
            super(played);
        }
    }

    private static final class InlineA extends CountingPort implements ImmediatePlay {
        InlineA(LongAdder played) {
            super(played);
        }
    }

    private static final class InlineB extends CountingPort implements ImmediatePlay {
        InlineB(LongAdder played) {
            super(played);
        }
    }

    private static final class InlineC extends CountingPort implements ImmediatePlay {
        InlineC(LongAdder played) {
            super(played);
        }
    }
}
