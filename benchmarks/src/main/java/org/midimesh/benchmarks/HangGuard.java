package org.midimesh.benchmarks;

import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.infra.IterationParams;

/**
 * Ends a benchmark JVM whose iteration does not end, so one hung strategy cannot stall the whole suite: JMH's own
 * timeout only interrupts, and a thread parked in {@code ReentrantLock.lock()} ignores that. Each benchmark arms it
 * when an iteration starts and disarms it when the iteration ends. If the iteration runs {@link #MARGIN_SECONDS}
 * (120 s, system property {@value #MARGIN_PROPERTY}) past its planned time, every thread's stack goes to stderr (JMH
 * shows it) and the JVM halts; JMH records the benchmark as failed and goes on with the next. Thread-safe; one timer
 * thread per JVM, {@code midimesh-bench-hang-guard}.
 */
final class HangGuard {

    static final String MARGIN_PROPERTY = "midimesh.bench.hangMarginSeconds";
    /** Beyond the iteration's planned time; longer than the 60 s {@code @Timeout}, which gets the first chance. */
    static final long MARGIN_SECONDS = Long.getLong(MARGIN_PROPERTY, 120);
    /** Exit status of a halted fork. */
    static final int HALT_STATUS = 3;

    private static final ScheduledThreadPoolExecutor TIMER = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "midimesh-bench-hang-guard");
        t.setDaemon(true);
        return t;
    });
    // Guarded by the class lock: the halt scheduled for the running iteration, if any.
    private static ScheduledFuture<?> pending;

    static {
        TIMER.setRemoveOnCancelPolicy(true);
    }

    private HangGuard() {
    }

    static synchronized void arm(String benchmark, IterationParams iteration) {
        disarm();
        long limitNanos = iteration.getTime().convertTo(TimeUnit.NANOSECONDS)
                + TimeUnit.SECONDS.toNanos(MARGIN_SECONDS);
        pending = TIMER.schedule(() -> halt(benchmark, limitNanos), limitNanos, TimeUnit.NANOSECONDS);
    }

    static synchronized void disarm() {
        if (pending != null) {
            pending.cancel(false);
            pending = null;
        }
    }

    private static void halt(String benchmark, long limitNanos) {
        StringBuilder dump = new StringBuilder("\n*** ").append(benchmark).append(": the iteration did not end within ")
                .append(TimeUnit.NANOSECONDS.toSeconds(limitNanos)).append(" s; thread dump, then halt ***\n");
        for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
            Thread t = e.getKey();
            dump.append('"').append(t.getName()).append("\" ").append(t.getState()).append('\n');
            for (StackTraceElement frame : e.getValue()) {
                dump.append("\tat ").append(frame).append('\n');
            }
        }
        System.err.println(dump);
        System.err.flush();
        Runtime.getRuntime().halt(HALT_STATUS);
    }
}
