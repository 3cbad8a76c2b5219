package org.midimesh.common;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.IntPredicate;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.PeerLink;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.strategy.spi.ConnectionEngine;
import org.midimesh.api.strategy.spi.ConnectionStrategy;
import org.midimesh.api.strategy.spi.EngineEvents;
import org.midimesh.api.transport.DataFrame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pieces the parts of the MIDI path use to warm up ({@link org.midimesh.api.health.Warmable}): a bounded loop,
 * the frames of a song, and the warm-up of a connection strategy through its SPI. Stateless; each call uses only its
 * own objects and the calling thread (plus whatever threads the strategy under warm-up runs its engine on).
 */
public final class Warmups {

    /**
     * Rounds a path gets: enough for the JIT's last tier (C2 compiles a method after about 5,000 to 15,000 calls, a
     * loop sooner), and a few milliseconds' work once compiled.
     */
    public static final int ROUNDS = 20_000;

    private static final Logger LOG = LoggerFactory.getLogger(Warmups.class);

    private Warmups() {
    }

    /**
     * Calls {@code round} with 0, 1, 2, ... until it has run {@code rounds} times, returns false, the deadline
     * ({@link System#nanoTime()}) passes, or the thread is interrupted. Returns how many rounds ran.
     */
    public static int repeat(int rounds, long deadlineNanos, IntPredicate round) {
        int i = 0;
        while (i < rounds && !Thread.currentThread().isInterrupted()) {
            if ((i & 0xff) == 0 && System.nanoTime() - deadlineNanos > 0) {
                break;
            }
            if (!round.test(i)) {
                break;
            }
            i++;
        }
        return i;
    }

    /**
     * Waits, parking {@code parkNanos} at a time, until {@code done} holds (true), or the deadline passes or the thread
     * is interrupted (false). Checks {@code done} first, so a condition that already holds costs no wait.
     */
    public static boolean await(BooleanSupplier done, long deadlineNanos, long parkNanos) {
        while (!done.getAsBoolean()) {
            if (System.nanoTime() - deadlineNanos > 0 || Thread.currentThread().isInterrupted()) {
                return false;
            }
            LockSupport.parkNanos(parkNanos);
        }
        return true;
    }

    /**
     * Warms a strategy on {@code twin}, a private instance made for it ({@link #strategy}), and stops the twin after,
     * whatever happened. A warm-up that throws is logged; the node goes on, only less warm.
     */
    public static <S extends ConnectionStrategy> String onPrivateInstance(S twin, Consumer<S> stop, Duration budget) {
        try {
            return strategy(twin, budget);
        } catch (RuntimeException e) {
            LOG.warn("warming up strategy {} failed; the first messages may be late", twin.name(), e);
            return "failed: " + e;
        } finally {
            stop.accept(twin);
        }
    }

    /** {@link System#nanoTime()} {@code budget} from now. */
    public static long deadline(Duration budget) {
        return System.nanoTime() + budget.toNanos();
    }

    /**
     * The frames a warm-up sends, in turn: what a keyboard plays (a note on, a note off, a controller, a chord of
     * three, a pitch bend), from device 1 of {@code source} to device 1.
     */
    public static List<DataFrame> frames(NodeId source) {
        MidiMessage on = MidiMessage.of((byte) 0x90, (byte) 60, (byte) 100);
        MidiMessage off = MidiMessage.of((byte) 0x80, (byte) 60, (byte) 0);
        MidiMessage cc = MidiMessage.of((byte) 0xB0, (byte) 64, (byte) 127);
        MidiMessage bend = MidiMessage.of((byte) 0xE0, (byte) 0, (byte) 64);
        List<MidiMessage> chord = List.of(MidiMessage.of((byte) 0x91, (byte) 60, (byte) 90),
                MidiMessage.of((byte) 0x91, (byte) 64, (byte) 90), MidiMessage.of((byte) 0x91, (byte) 67, (byte) 90));
        return List.of(frame(source, List.of(on)), frame(source, List.of(off)), frame(source, List.of(cc)),
                frame(source, chord), frame(source, List.of(bend)));
    }

    private static DataFrame frame(NodeId source, List<MidiMessage> messages) {
        return new DataFrame(1, source, 1, 0, messages);
    }

    /**
     * Warms a connection strategy: three engines of {@code strategy} to made-up peers whose handshakes answer at once
     * and whose links only count, connected, sent up to {@link #ROUNDS} frames between them in turn, and closed.
     * Nothing leaves the process. Call it on a private instance of the strategy, so its metrics and its engine list
     * stay the live one's.
     * <p>Why three: the JIT compiles a call through an interface for the classes it has seen there. Warmed with one
     * link class, the engine's call to its link would be compiled for that class alone, and the first real frame
     * (whose link is the transport) would throw the compiled code away and compile it again, during the first song.
     * Three classes make the JIT compile a call that takes any.
     *
     * @return what was done, for the log, e.g. {@code "20000 frames"}
     */
    public static String strategy(ConnectionStrategy strategy, Duration budget) {
        long deadline = deadline(budget);
        LongAdder linked = new LongAdder();
        CountDownLatch connected = new CountDownLatch(3);
        List<PeerLink> links = List.of(new LinkA(linked), new LinkB(linked), new LinkC(linked));
        List<ConnectionEngine> engines = new ArrayList<>();
        try {
            for (PeerLink link : links) {
                NodeInfo peer = new NodeInfo(NodeId.random(), "warm-up", "warm-up", "127.0.0.1", 1, 1, 1, "0");
                Handshake answer = new Handshake(peer, List.of(new DeviceInfo(1, "warm-up", DeviceType.OUTPUT)));
                ConnectionEngine engine = strategy.create(new ConnectionContext("127.0.0.1", 1,
                        (host, port) -> answer, link, Duration.ofSeconds(3)), new ConnectedLatch(connected));
                engines.add(engine);
                engine.connect();
            }
            if (!connected.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                return "not connected within " + budget.toMillis() + " ms";
            }
            List<DataFrame> frames = frames(NodeId.random());
            long[] accepted = new long[1];
            int rounds = repeat(ROUNDS, deadline, i -> {
                ConnectionEngine engine = engines.get(i % engines.size());
                // A queueing strategy refuses when its queue is full: wait for its stage to catch up, then go on.
                DataFrame frame = frames.get(i % frames.size());
                if (!await(() -> engine.send(frame), deadline, 100_000)) {
                    return false;
                }
                accepted[0]++;
                return true;
            });
            await(() -> linked.sum() >= accepted[0], deadline, 200_000);
            return rounds + " frames";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        } finally {
            engines.forEach(ConnectionEngine::close);
        }
    }

    /** Counts the engine's data frames; heartbeats and goodbyes go nowhere. Subclassed only to give three classes. */
    private abstract static class CountingLink implements PeerLink {
        private final LongAdder frames;

        CountingLink(LongAdder frames) {
            this.frames = frames;
        }

        @Override
        public void sendData(NodeInfo to, DataFrame frame) {
            frames.increment();
        }

        @Override
        public void sendHeartbeat(NodeInfo to) {
        }

        @Override
        public void sendGoodbye(NodeInfo to) {
        }
    }

    private static final class LinkA extends CountingLink {
        LinkA(LongAdder frames) {
            super(frames);
        }
    }

    private static final class LinkB extends CountingLink {
        LinkB(LongAdder frames) {
            super(frames);
        }
    }

    private static final class LinkC extends CountingLink {
        LinkC(LongAdder frames) {
            super(frames);
        }
    }

    /** Counts down once when its engine is CONNECTED. */
    private static final class ConnectedLatch implements EngineEvents {
        private final CountDownLatch latch;
        // Set by the first CONNECTED event, on the strategy's event thread; only guards the count (no data rides on it).
        private final AtomicBoolean counted = new AtomicBoolean();

        ConnectedLatch(CountDownLatch latch) {
            this.latch = latch;
        }

        @Override
        public void stateChanged(ConnectionState from, ConnectionState to) {
            if (to == ConnectionState.CONNECTED && counted.compareAndSet(false, true)) {
                latch.countDown();
            }
        }

        @Override
        public void error(String message) {
        }

        @Override
        public void devicesChanged(List<DeviceInfo> devices) {
        }
    }
}
