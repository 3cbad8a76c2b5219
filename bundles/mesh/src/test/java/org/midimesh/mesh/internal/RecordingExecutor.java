package org.midimesh.mesh.internal;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.midimesh.common.NamedThreadFactory;

/**
 * A pool like the mesh's (2 threads, {@code test-mesh-<n>}) that records the delay of every task scheduled for later
 * and runs it at once: so a test sees the backoff without waiting it out. Thread-safe.
 */
final class RecordingExecutor extends ScheduledThreadPoolExecutor {

    /** The delays asked for, in milliseconds, in the order they were asked. */
    final List<Long> delays = new CopyOnWriteArrayList<>();

    RecordingExecutor() {
        super(2, new NamedThreadFactory("test-mesh", true));
    }

    @Override
    public void execute(Runnable command) {
        super.schedule(command, 0, TimeUnit.NANOSECONDS); // not through schedule below: it is no delayed task
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        delays.add(unit.toMillis(delay));
        return super.schedule(command, 0, unit);
    }
}
