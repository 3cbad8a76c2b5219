package org.midimesh.connection.seda.internal;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A worker stage the stress tests drive by hand: {@link #execute} queues the mailbox's drain task, and whichever actor
 * plays the stage (later the arbiter) runs it with {@link #poll}. The queue's own ordering publishes each task and
 * everything the dispatching thread did before handing it over. Thread-safe.
 */
final class QueuedStage implements Executor {

    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    // Drain tasks handed over so far. A counter only; read by the arbiter after the actors.
    private final AtomicInteger dispatches = new AtomicInteger();

    @Override
    public void execute(Runnable task) {
        dispatches.incrementAndGet();
        tasks.offer(task);
    }

    /** The next queued drain task, or null. */
    Runnable poll() {
        return tasks.poll();
    }

    /** Runs every queued drain task (and those they queue), as the stage's next turns. */
    void runAll() {
        Runnable task;
        while ((task = tasks.poll()) != null) {
            task.run();
        }
    }

    boolean isEmpty() {
        return tasks.isEmpty();
    }

    int dispatches() {
        return dispatches.get();
    }
}
