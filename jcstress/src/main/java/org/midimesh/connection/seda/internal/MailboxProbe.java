package org.midimesh.connection.seda.internal;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The handler of a {@link SerialExecutor} under test: records which items ran, in which order, on which thread, and
 * whether two threads were ever inside it at once. One per trial. Its log is written by whichever thread owns the
 * mailbox at the time and read by the arbiter, after every actor has finished.
 */
final class MailboxProbe implements SerialExecutor.Handler<Integer> {

    private final int[] ran;
    private final Thread[] ranOn;
    // Plain, like an engine's worker-owned fields: written only by the current mailbox owner, so the next owner
    // sees them through the mailbox's hand-off (a lost hand-off shows as a lost entry or a count that is off). The
    // atomics below order them too, so this is a backstop; the outcomes themselves are the real checks.
    private int count;

    // Handlers running now; a second one entering means two owners at once. An atomic, so that noticing the overlap
    // does not depend on the ordering under test.
    private final AtomicInteger inside = new AtomicInteger();
    // Everything that must never happen, from any thread: overlapping handlers, the mailbox's own single-owner
    // assertion throwing, an item the handler failed on, a refused offer. Read by the arbiter.
    private final AtomicInteger violations = new AtomicInteger();

    /** @param capacity entries logged; more runs than that are counted but not logged */
    MailboxProbe(int capacity) {
        ran = new int[capacity];
        ranOn = new Thread[capacity];
    }

    @Override
    public void handle(Integer item) {
        if (inside.incrementAndGet() != 1) {
            violations.incrementAndGet();
        }
        int n = count;
        if (n < ran.length) {
            ran[n] = item;
            ranOn[n] = Thread.currentThread();
        }
        count = n + 1;
        inside.decrementAndGet();
    }

    /** For {@link SerialExecutor}'s onFailure: the handler above never throws, so any failure is a violation. */
    void failed(Throwable t) {
        violations.incrementAndGet();
    }

    /**
     * Offers {@code item} as a producer does, counting a refusal (the tests stay below the capacity) and the
     * single-owner {@link IllegalStateException} that a drain running inline on this thread throws on concurrent
     * entry.
     */
    void offer(SerialExecutor<Integer> mailbox, int item) {
        try {
            if (!mailbox.offer(item)) {
                violations.incrementAndGet();
            }
        } catch (IllegalStateException e) {
            violations.incrementAndGet();
        }
    }

    /** {@link #offer}, through {@link SerialExecutor#offerOrRun} (the caller may run the item itself). */
    void offerOrRun(SerialExecutor<Integer> mailbox, int item) {
        try {
            if (!mailbox.offerOrRun(item)) {
                violations.incrementAndGet();
            }
        } catch (IllegalStateException e) {
            violations.incrementAndGet();
        }
    }

    /** Items run so far (arbiter). */
    int count() {
        return count;
    }

    int violations() {
        return violations.get();
    }

    /**
     * Whether the log holds exactly the items of {@code producers}, each once, every producer's items in the order it
     * offered them (arbiter).
     */
    boolean ranEachOnceInOrder(int[]... producers) {
        int total = 0;
        for (int[] p : producers) {
            total += p.length;
        }
        if (count != total || total > ran.length) {
            return false;
        }
        for (int[] p : producers) {
            int at = -1;
            for (int item : p) {
                int found = -1;
                for (int i = 0; i < count; i++) {
                    if (ran[i] == item) {
                        if (found >= 0) {
                            return false; // twice
                        }
                        found = i;
                    }
                }
                if (found < 0 || found < at) {
                    return false; // missing, or ahead of an item its producer offered before it
                }
                at = found;
            }
        }
        return true;
    }

    /** How many times {@code item} ran (arbiter). */
    int runsOf(int item) {
        int runs = 0;
        for (int i = 0; i < Math.min(count, ran.length); i++) {
            if (ran[i] == item) {
                runs++;
            }
        }
        return runs;
    }

    /** The thread {@code item} last ran on, or null (arbiter). */
    Thread ranOn(int item) {
        Thread t = null;
        for (int i = 0; i < Math.min(count, ran.length); i++) {
            if (ran[i] == item) {
                t = ranOn[i];
            }
        }
        return t;
    }

    /** Distinct threads that ran the first {@code n} logged items (arbiter). */
    int threads(int n) {
        int distinct = 0;
        for (int i = 0; i < Math.min(n, Math.min(count, ran.length)); i++) {
            boolean seen = false;
            for (int j = 0; j < i; j++) {
                seen |= ranOn[j] == ranOn[i];
            }
            if (!seen) {
                distinct++;
            }
        }
        return distinct;
    }

    /** Whether every logged item ran on {@code thread} (arbiter). */
    boolean allRanOn(Thread thread) {
        for (int i = 0; i < Math.min(count, ran.length); i++) {
            if (ranOn[i] != thread) {
                return false;
            }
        }
        return true;
    }
}
