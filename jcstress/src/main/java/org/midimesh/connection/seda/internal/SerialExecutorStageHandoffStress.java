package org.midimesh.connection.seda.internal;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.Executor;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIIII_Result;

/**
 * A producer offers three items to one real {@link SerialExecutor} while a stage thread runs the drain tasks the
 * mailbox hands to the stage, as an engine's callers and the SEDA worker stage do. The stage is a queue of tasks
 * that the stage actor runs until the producer has finished and no task is left, so a trial is bounded: it ends after
 * three offers and at most three drains. An item offered while the drainer releases the token must still run (no lost
 * wakeup): either the drainer's re-check takes the token back or the producer wins it and dispatches a new drain.
 * <p>Result: items run, exactly-once-in-order (1/0), violations (overlapping handlers, an item run off the stage
 * thread, a refused offer, a handler failure), drain tasks dispatched, and whether a later offer still runs (1/0).
 */
@JCStressTest
@Description("SEDA mailbox: a producer offers while the stage thread drains and releases the token")
@Outcome(id = "3, 1, 0, 1, 1", expect = ACCEPTABLE, desc = "One drain task ran all three items: every later offer "
        + "found the token held and the drainer picked the item up (by its polls, or by re-taking the token on its "
        + "re-check after releasing it).")
@Outcome(id = {"3, 1, 0, 2, 1", "3, 1, 0, 3, 1"}, expect = ACCEPTABLE_INTERESTING, desc = "The drainer released the "
        + "token between offers and a later offer won it back and dispatched a new drain task: the token passed from "
        + "the stage thread to the producer and back.")
@Outcome(expect = FORBIDDEN, desc = "An item lost (a lost wakeup: queued with the token released and no drain "
        + "coming), run twice or out of order, two threads inside the handler at once, an item run off the stage "
        + "thread, a refused offer, or the token left taken so that a later offer never runs.")
@State
public class SerialExecutorStageHandoffStress {

    // The stage, run by hand: the stage actor (later the arbiter) runs the drain tasks the mailbox dispatches.
    private final QueuedStage stage = new QueuedStage();

    private final MailboxProbe probe = new MailboxProbe(8);
    private final SerialExecutor<Integer> mailbox = new SerialExecutor<>("stage-handoff-stress", stage, 8, 0, probe,
            probe::failed);

    // Set by the producer after its last offer, so after its last dispatch: a stage actor that reads true and then
    // finds no task knows none is coming.
    private volatile boolean producerDone;
    // Written by the stage actor, read by the arbiter (after the actors, so no ordering of its own is needed).
    private Thread stageThread;

    @Actor
    public void producer() {
        probe.offer(mailbox, 0);
        probe.offer(mailbox, 1);
        probe.offer(mailbox, 2);
        producerDone = true;
    }

    @Actor
    public void stage() {
        stageThread = Thread.currentThread();
        for (;;) {
            Runnable task = stage.poll();
            if (task != null) {
                task.run();
            } else if (producerDone) {
                task = stage.poll(); // the last dispatch came before producerDone: it is in the queue by now
                if (task == null) {
                    return;
                }
                task.run();
            } else {
                Thread.onSpinWait();
            }
        }
    }

    @Arbiter
    public void arbiter(IIIII_Result r) {
        r.r1 = probe.count();
        r.r2 = probe.ranEachOnceInOrder(new int[] {0, 1, 2}) ? 1 : 0;
        r.r4 = stage.dispatches();
        boolean onStage = probe.allRanOn(stageThread);
        // The token must be free again: a later offer dispatches a drain (run here, as the stage's next turn) that
        // runs it.
        boolean idle = mailbox.isIdle() && mailbox.owner() == null && stage.isEmpty();
        probe.offer(mailbox, 3);
        stage.runAll();
        r.r5 = idle && stage.dispatches() == r.r4 + 1 && probe.runsOf(3) == 1 && mailbox.isIdle() ? 1 : 0;
        r.r3 = probe.violations() + (onStage ? 0 : 1);
    }
}
