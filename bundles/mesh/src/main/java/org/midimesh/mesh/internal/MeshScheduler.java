package org.midimesh.mesh.internal;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The roles' way onto the mesh's pool ({@code midimesh-mesh-<n>}, owned and stopped by {@link MeshManager}): runs
 * tasks now or later, logs a failed task at ERROR and goes on, and takes no new work once {@link #close()}d.
 * Thread-safe; any thread.
 */
final class MeshScheduler {

    private static final Logger LOG = LoggerFactory.getLogger(MeshScheduler.class);

    private final ScheduledExecutorService executor;
    // Set once by close() on SCR's thread (deactivation); read by every thread before it schedules or starts work.
    // Publishes nothing else: it only stops new work.
    private volatile boolean closing;

    MeshScheduler(ScheduledExecutorService executor) {
        this.executor = executor;
    }

    /** Runs {@code task} on the pool soon; dropped once closing. */
    void execute(Runnable task) {
        if (closing) {
            return;
        }
        try {
            executor.execute(() -> run(task));
        } catch (RejectedExecutionException e) {
            LOG.debug("mesh is stopping; task dropped");
        }
    }

    /** Runs {@code task} on the pool after {@code delayMs}; null (nothing scheduled) once closing. */
    ScheduledFuture<?> schedule(Runnable task, long delayMs) {
        if (closing) {
            return null;
        }
        try {
            return executor.schedule(() -> run(task), delayMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            LOG.debug("mesh is stopping; task dropped");
            return null;
        }
    }

    /** True once the mesh is stopping: nothing new is dialled, redialled or announced. */
    boolean closing() {
        return closing;
    }

    /** Takes no more work from now on; the owner then stops the pool. Idempotent. */
    void close() {
        closing = true;
    }

    private static void run(Runnable task) {
        try {
            task.run();
        } catch (Throwable t) { // a failed task must not vanish inside its Future, nor stop the ones after it
            LOG.error("mesh task failed", t);
        }
    }
}
