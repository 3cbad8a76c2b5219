package org.midimesh.benchmarks.load;

import java.io.PrintStream;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.HdrHistogram.Histogram;

/**
 * How long this machine takes to run a parked thread after it is unparked: the floor under every hand-off on the
 * realtime path (the receive thread waking, an output's delivery thread, seda's stage). Two threads: the waker
 * parks for the gap, stamps {@link System#nanoTime()}, unparks the sleeper and spins until the sleeper has taken the
 * stamp; the sleeper records now minus the stamp. Nothing else runs, so on a quiet machine this is the scheduler's
 * (and in a VM the hypervisor's) share of each hand-off.
 * <p>{@code java -cp benchmarks/target/midimesh-load.jar org.midimesh.benchmarks.load.WakeProbe [gap-µs] [wake-ups]}
 * (defaults 100 and 40,000). Prints the distribution and how many wake-ups took over 1 ms.
 * <p>Threads: the caller's (the waker) and {@code midimesh-wake-probe} (the sleeper). {@link #stamp} carries the time
 * from waker to sleeper and back (0 = taken); the histogram is written by the sleeper only and read after it is
 * joined.
 */
public final class WakeProbe {

    private WakeProbe() {
    }

    public static void main(String[] args) throws InterruptedException {
        long gapMicros = args.length > 0 ? Long.parseLong(args[0]) : 100;
        int wakeUps = args.length > 1 ? Integer.parseInt(args[1]) : 40_000;
        if (gapMicros < 0 || wakeUps < 1) {
            System.err.println("usage: WakeProbe [gap-µs >= 0] [wake-ups >= 1]");
            System.exit(2);
        }
        print(run(gapMicros, wakeUps), gapMicros, System.out);
    }

    /** Runs the probe; returns the wake-up latencies in nanoseconds. */
    static Histogram run(long gapMicros, int wakeUps) throws InterruptedException {
        Histogram latency = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
        AtomicLong stamp = new AtomicLong();
        Thread sleeper = new Thread(() -> {
            for (int i = 0; i < wakeUps; i++) {
                long sent;
                while ((sent = stamp.get()) == 0) {
                    LockSupport.park();
                }
                latency.recordValue(Math.max(0, System.nanoTime() - sent));
                stamp.set(0);
            }
        }, "midimesh-wake-probe");
        sleeper.setDaemon(true);
        sleeper.start();
        for (int i = 0; i < wakeUps; i++) {
            if (gapMicros > 0) {
                LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(gapMicros));
            }
            stamp.set(System.nanoTime());
            LockSupport.unpark(sleeper);
            while (stamp.get() != 0) {
                Thread.onSpinWait();
            }
        }
        sleeper.join(TimeUnit.SECONDS.toMillis(10));
        return latency;
    }

    static void print(Histogram h, long gapMicros, PrintStream out) {
        long total = h.getTotalCount();
        long over = total - h.getCountBetweenValues(0, TimeUnit.MILLISECONDS.toNanos(1));
        out.printf("wake-ups %d, gap %d µs: p50 %.1f µs, p90 %.1f, p99 %.1f, p99.9 %.1f, max %.1f; over 1 ms: %d"
                        + " (%.2f %%)%n", total, gapMicros, h.getValueAtPercentile(50) / 1e3,
                h.getValueAtPercentile(90) / 1e3, h.getValueAtPercentile(99) / 1e3,
                h.getValueAtPercentile(99.9) / 1e3, h.getMaxValue() / 1e3, over, 100.0 * over / total);
    }
}
