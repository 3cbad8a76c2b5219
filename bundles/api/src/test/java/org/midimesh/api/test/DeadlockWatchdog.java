package org.midimesh.api.test;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit 5 extension for concurrency tests: while a test runs, a daemon thread asks {@link ThreadMXBean} every 200 ms
 * for deadlocked threads. If it finds any, it prints every thread's stack to stderr and fails the test (when the test
 * ends, normally by its own timeout). Use with {@code @ExtendWith(DeadlockWatchdog.class)} and a {@code @Timeout}.
 * <p>Owned thread: {@code midimesh-test-deadlock-watchdog}, one per running test.
 */
public final class DeadlockWatchdog implements BeforeEachCallback, AfterEachCallback {

    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(DeadlockWatchdog.class);

    private static final class Watch {
        final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "midimesh-test-deadlock-watchdog");
            t.setDaemon(true);
            return t;
        });
        // Written once by the watchdog thread, read by the test thread after shutdown (awaitTermination orders it).
        final AtomicReference<String> report = new AtomicReference<>();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        Watch w = new Watch();
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        w.timer.scheduleWithFixedDelay(() -> {
            long[] ids = mx.findDeadlockedThreads();
            if (ids != null && w.report.get() == null) {
                String dump = dumpAll(mx);
                if (w.report.compareAndSet(null, dump)) {
                    System.err.println("DEADLOCK detected in " + context.getDisplayName() + "\n" + dump);
                }
            }
        }, 200, 200, TimeUnit.MILLISECONDS);
        context.getStore(NS).put(Watch.class, w);
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        Watch w = context.getStore(NS).remove(Watch.class, Watch.class);
        if (w == null) {
            return;
        }
        w.timer.shutdownNow();
        w.timer.awaitTermination(5, TimeUnit.SECONDS);
        String report = w.report.get();
        if (report == null) {
            long[] ids = ManagementFactory.getThreadMXBean().findDeadlockedThreads();
            if (ids != null) {
                report = dumpAll(ManagementFactory.getThreadMXBean());
            }
        }
        if (report != null) {
            throw new AssertionError("deadlock detected; all threads:\n" + report);
        }
    }

    /** Every live thread with its full stack and the locks it holds and waits for. */
    public static String dumpAll(ThreadMXBean mx) {
        StringBuilder sb = new StringBuilder();
        for (ThreadInfo ti : mx.dumpAllThreads(true, true)) {
            sb.append('"').append(ti.getThreadName()).append("\" ").append(ti.getThreadState());
            if (ti.getLockName() != null) {
                sb.append(" on ").append(ti.getLockName());
            }
            if (ti.getLockOwnerName() != null) {
                sb.append(" owned by \"").append(ti.getLockOwnerName()).append('"');
            }
            sb.append('\n');
            for (StackTraceElement e : ti.getStackTrace()) {
                sb.append("\tat ").append(e).append('\n');
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
