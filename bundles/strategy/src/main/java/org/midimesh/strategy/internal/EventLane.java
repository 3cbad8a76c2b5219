package org.midimesh.strategy.internal;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers one connection's listener calls one at a time, in the order they were posted, on the manager's event
 * threads: never on the thread that posted (an engine's), never concurrently, never under a lock. A listener that
 * blocks holds up only this connection's later events (and one event thread), not the engine that raised them: a swap
 * never waits for a listener. Thread-safe; any thread posts.
 */
final class EventLane {

    private static final Logger LOG = LoggerFactory.getLogger(EventLane.class);

    private final Executor threads;
    private final ConcurrentLinkedQueue<Runnable> queue = new ConcurrentLinkedQueue<>();
    // true while a drain task is queued or running; CAS false->true by whoever schedules one. A task clears it when it
    // finds the queue empty and then looks again, so an event offered before the clear is seen by it or by a new task.
    private final AtomicBoolean scheduled = new AtomicBoolean();

    EventLane(Executor threads) {
        this.threads = threads;
    }

    void post(Runnable delivery) {
        queue.add(delivery);
        if (scheduled.compareAndSet(false, true)) {
            try {
                threads.execute(this::drain);
            } catch (RejectedExecutionException e) {
                scheduled.set(false);
                queue.clear();
                LOG.debug("listener calls dropped: the strategy manager is stopping");
            }
        }
    }

    private void drain() {
        do {
            Runnable r;
            while ((r = queue.poll()) != null) {
                try {
                    r.run();
                } catch (Throwable t) { // a listener must not end the lane for the ones after it
                    LOG.error("a connection listener failed", t);
                }
            }
            scheduled.set(false);
        } while (!queue.isEmpty() && scheduled.compareAndSet(false, true));
    }
}
