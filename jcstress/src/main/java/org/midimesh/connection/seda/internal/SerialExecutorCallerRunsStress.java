package org.midimesh.connection.seda.internal;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.atomic.AtomicInteger;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIIII_Result;

/**
 * The seda send hot path: a caller gives items to one real {@link SerialExecutor} with
 * {@link SerialExecutor#offerOrRun} (a send that runs on its caller when the mailbox is idle) while another thread
 * queues an item with {@link SerialExecutor#offer} and plays the stage, running the drain tasks the mailbox dispatches
 * (two actors: this machine has two cores). So A's token CAS races B's offer, the stage's release-and-re-check, and
 * B's own offerOrRun. An item may run on its caller only while the caller owns the token, so every item still runs
 * exactly once, in its producer's order, one at a time; A never runs B's items (they are queued, or B runs them); and
 * nothing is stranded when A gives the token back while items wait (its re-check dispatches them to the stage).
 * <p>Result: items run, exactly-once-in-order (1/0), violations (overlapping handlers, the single-owner exception, a
 * refused offer, a handler failure, B's item run on A), A's items run on A, and whether a later offer still runs
 * (1/0).
 */
@JCStressTest
@Description("SEDA mailbox: a caller runs its own item when idle, racing a queued offer and the stage")
@Outcome(id = "4, 1, 0, 0, 1", expect = ACCEPTABLE, desc = "Both of A's items ran on the stage: each of A's "
        + "offerOrRun found the mailbox busy (B's queued item, or the stage draining) and queued behind.")
@Outcome(id = "4, 1, 0, 1, 1", expect = ACCEPTABLE_INTERESTING, desc = "One of A's items ran on A (the mailbox was "
        + "idle when it came), the other on the stage, in order.")
@Outcome(id = "4, 1, 0, 2, 1", expect = ACCEPTABLE_INTERESTING, desc = "Both of A's items ran on A: each time the "
        + "mailbox was idle.")
@Outcome(expect = FORBIDDEN, desc = "An item lost or run twice, a producer's items out of order, two threads inside "
        + "the handler at once, B's item run by A, a refused offer, or the token left taken so that a later offer "
        + "never runs.")
@State
public class SerialExecutorCallerRunsStress {

    private final QueuedStage stage = new QueuedStage();
    private final MailboxProbe probe = new MailboxProbe(8);
    private final SerialExecutor<Integer> mailbox = new SerialExecutor<>("caller-runs-stress", stage, 8, 0, probe,
            probe::failed);

    // Set by actor A before its first offer, read by the arbiter after the actors.
    private Thread caller;
    // Set by A after its last offerOrRun (so after its last dispatch): B, playing the stage, that reads true and then
    // finds no task knows none is coming.
    private volatile boolean callerDone;

    @Actor
    public void caller() {
        caller = Thread.currentThread();
        probe.offerOrRun(mailbox, 0);
        probe.offerOrRun(mailbox, 1);
        callerDone = true;
    }

    @Actor
    public void producerAndStage() {
        probe.offer(mailbox, 2);
        runOneTask();
        probe.offerOrRun(mailbox, 3);
        for (;;) {
            if (runOneTask()) {
                continue;
            }
            if (callerDone) {
                if (!runOneTask()) { // the last dispatch came before callerDone: it is in the queue by now
                    return;
                }
            } else {
                Thread.onSpinWait();
            }
        }
    }

    private boolean runOneTask() {
        Runnable task = stage.poll();
        if (task == null) {
            return false;
        }
        task.run();
        return true;
    }

    @Arbiter
    public void arbiter(IIIII_Result r) {
        r.r1 = probe.count();
        r.r2 = probe.ranEachOnceInOrder(new int[] {0, 1}, new int[] {2, 3}) ? 1 : 0;
        int onCaller = 0;
        for (int item = 0; item < 2; item++) {
            onCaller += probe.ranOn(item) == caller ? 1 : 0;
        }
        int bOnA = (probe.ranOn(2) == caller ? 1 : 0) + (probe.ranOn(3) == caller ? 1 : 0);
        r.r4 = onCaller;
        // The token must be free again: a later offer takes it, and the stage (run here) runs it.
        boolean idle = mailbox.isIdle() && mailbox.owner() == null;
        probe.offer(mailbox, 4);
        stage.runAll();
        r.r5 = idle && probe.count() == 5 && probe.runsOf(4) == 1 && mailbox.isIdle() ? 1 : 0;
        r.r3 = probe.violations() + bOnA;
    }
}
