package org.midimesh.example.clock;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.midimesh.api.driver.InputSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The clock thread {@code midimesh-clock}: it wakes when the next message is due (or when told of a change), asks the
 * {@link ClockEngine} what is due, and hands each message to the port's sink with the time it was due, converted to
 * epoch microseconds. It holds no lock, ever: the settings and the sink are read from volatile fields, and all the
 * schedule state is the engine's, confined to this thread. Thread-safe.
 */
final class ClockRunner {

    private static final Logger LOG = LoggerFactory.getLogger(ClockRunner.class);

    private final ClockPort port = new ClockPort(this::wake);
    private final Thread thread = new Thread(this::run, "midimesh-clock");

    // Written by ConfigAdmin's thread (activation, @Modified), read by the clock thread each time it wakes; the
    // volatile write publishes the (immutable) settings, and the unpark after it wakes the thread to apply them.
    private volatile Settings settings;
    // Written once by the deactivating thread, read by the clock thread: true ends the loop.
    private volatile boolean stopped;

    ClockRunner(Settings initial) {
        this.settings = initial;
        thread.setDaemon(true);
        thread.setUncaughtExceptionHandler((t, e) -> LOG.error("{} died", t.getName(), e));
    }

    ClockPort port() {
        return port;
    }

    void start() {
        thread.start();
    }

    /** Applies new settings from the next wake-up, which comes at once. */
    void update(Settings s) {
        settings = s;
        wake();
    }

    private void wake() {
        LockSupport.unpark(thread);
    }

    /** Ends the thread, waiting for it up to {@code timeoutMs}. */
    void stop(long timeoutMs) throws InterruptedException {
        stopped = true;
        thread.interrupt();
        thread.join(timeoutMs);
        if (thread.isAlive()) {
            LOG.warn("{} did not end within {} ms", thread.getName(), timeoutMs);
        }
    }

    private void run() {
        ClockEngine engine = new ClockEngine();
        // nanoTime has no epoch: one reading of both clocks maps each due time to the sink's epoch microseconds.
        long baseNanos = System.nanoTime();
        Instant baseInstant = Instant.now();
        long baseMicros = baseInstant.getEpochSecond() * 1_000_000L + baseInstant.getNano() / 1_000;
        long skippedLogged = 0;
        while (!stopped) {
            InputSink sink = port.sink();
            Settings s = settings;
            boolean wasRunning = engine.running();
            List<ClockEngine.Emission> due = engine.step(System.nanoTime(), s, sink != null);
            if (engine.running() != wasRunning) {
                LOG.info("clock {} at {} BPM", engine.running() ? "started" : "stopped", s.bpm());
            }
            for (ClockEngine.Emission e : due) {
                deliver(sink, e, baseMicros + (e.atNanos() - baseNanos) / 1_000);
            }
            if (engine.skipped() != skippedLogged) {
                LOG.warn("the clock thread was late by more than a quarter note; {} ticks skipped so far",
                        engine.skipped());
                skippedLogged = engine.skipped();
            }
            long wakeAt = engine.nextWakeNanos();
            if (wakeAt == Long.MAX_VALUE) {
                LockSupport.park(this);
            } else {
                long wait = wakeAt - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(this, Math.min(wait, TimeUnit.SECONDS.toNanos(1)));
                }
            }
        }
        LOG.debug("{} ended", Thread.currentThread().getName());
    }

    /** Never under a lock; a sink that throws is logged, and the clock goes on. */
    private void deliver(InputSink sink, ClockEngine.Emission e, long timestampMicros) {
        try {
            sink.produced(port, List.of(e.message()), timestampMicros);
        } catch (RuntimeException ex) {
            LOG.warn("the node refused {} from the clock", e.message(), ex);
        }
    }
}
