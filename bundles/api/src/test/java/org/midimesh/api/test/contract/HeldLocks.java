package org.midimesh.api.test.contract;

import java.lang.management.LockInfo;
import java.lang.management.ManagementFactory;
import java.lang.management.MonitorInfo;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Which locks the calling thread holds right now, asked of {@link ThreadMXBean}: object monitors and ownable
 * synchronizers ({@code ReentrantLock}, {@code ReentrantReadWriteLock}, ...). A strategy-neutral way to check the rule
 * that nothing is called out while a lock is held. Thread-safe, but slow: each call stops the JVM at a safepoint and
 * walks the heap for owned synchronizers, so use it only in tests about locking.
 */
public final class HeldLocks {

    /**
     * Synchronizers every pooled thread holds while it runs any task: {@code ThreadPoolExecutor} locks its own worker
     * around each task. They guard nothing of the code under test.
     */
    private static final Set<String> EXECUTOR_INTERNALS = Set.of("java.util.concurrent.ThreadPoolExecutor$Worker");

    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

    private HeldLocks() {
    }

    /** The locks the calling thread holds, described for a failure message; empty when it holds none. */
    public static List<String> ofCurrentThread() {
        ThreadInfo[] infos = MX.getThreadInfo(new long[] {Thread.currentThread().getId()},
                MX.isObjectMonitorUsageSupported(), MX.isSynchronizerUsageSupported());
        List<String> held = new ArrayList<>();
        if (infos.length == 0 || infos[0] == null) {
            return held;
        }
        ThreadInfo info = infos[0];
        for (MonitorInfo m : info.getLockedMonitors()) {
            held.add("monitor " + m + " taken at " + m.getLockedStackFrame());
        }
        for (LockInfo l : info.getLockedSynchronizers()) {
            if (!EXECUTOR_INTERNALS.contains(l.getClassName())) {
                held.add("synchronizer " + l);
            }
        }
        return held;
    }
}
