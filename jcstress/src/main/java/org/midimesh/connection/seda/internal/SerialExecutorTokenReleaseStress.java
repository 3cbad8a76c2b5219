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
 * The race the release-then-recheck of a real {@link SerialExecutor} exists for, and nothing else. Each trial starts
 * with item 0 queued and its drain task waiting on the stage (so the token is taken). Then, at once, the stage actor
 * runs that drain task (it runs item 0, releases the token, re-checks the queue) and the producer offers item 1
 * (queue, then CAS on the token). Afterwards the arbiter plays the stage's next turn and runs whatever drain task the
 * producer dispatched. Item 1 must run exactly once: by the first drain, or by the producer's own.
 * <p>Result: who ran item 1 (1: the first drain task, on the stage actor; 2: a drain task the producer dispatched, on
 * the arbiter; 0: nobody; 3: more than once), drain tasks dispatched by the end of the actors (the initial one
 * included), items 0 and 1 once and in order (1/0), violations (overlapping handlers, a refused offer, a handler
 * failure), and whether a later offer still runs (1/0).
 */
@JCStressTest
@Description("SEDA mailbox: an offer racing with the drainer's token release (no lost wakeup)")
@Outcome(id = "1, 1, 1, 0, 1", expect = ACCEPTABLE, desc = "The first drain ran item 1: it polled it before "
        + "releasing the token, or took the token back on its re-check; the producer's CAS lost.")
@Outcome(id = "1, 2, 1, 0, 1", expect = ACCEPTABLE_INTERESTING, desc = "The first drain ran item 1 and released the "
        + "token before the producer's CAS, so the producer won it and dispatched a drain that found nothing: "
        + "harmless, the empty drain just releases the token.")
@Outcome(id = "2, 2, 1, 0, 1", expect = ACCEPTABLE_INTERESTING, desc = "The first drain found the queue empty and "
        + "released the token; the producer won it (the drainer's re-check saw nothing, or lost the CAS) and its own "
        + "drain task ran item 1.")
@Outcome(expect = FORBIDDEN, desc = "Item 1 never ran (a lost wakeup: queued, token released, no drain coming) or "
        + "ran twice, items out of order, two threads inside the handler, a refused offer, or the token left taken so "
        + "that a later offer never runs.")
@State
public class SerialExecutorTokenReleaseStress {

    private static final int NOBODY = 0;
    private static final int FIRST_DRAIN = 1;
    private static final int PRODUCERS_DRAIN = 2;
    private static final int MORE_THAN_ONCE = 3;

    // The stage, run by hand: the stage actor (later the arbiter) runs the drain tasks the mailbox dispatches.
    private final QueuedStage stage = new QueuedStage();

    private final MailboxProbe probe = new MailboxProbe(8);
    private final SerialExecutor<Integer> mailbox = new SerialExecutor<>("token-release-stress", stage, 8, 0, probe,
            probe::failed);

    // Written by the stage actor, read by the arbiter (after the actors, so no ordering of its own is needed).
    private Thread stageThread;

    public SerialExecutorTokenReleaseStress() {
        probe.offer(mailbox, 0); // takes the token: the first drain task now waits in stageTasks
    }

    @Actor
    public void producer() {
        probe.offer(mailbox, 1);
    }

    @Actor
    public void stage() {
        stageThread = Thread.currentThread();
        // Only the first drain task can be queued yet: a second one needs the token, which this one still holds.
        stage.poll().run();
    }

    @Arbiter
    public void arbiter(IIIII_Result r) {
        r.r2 = stage.dispatches();
        stage.runAll();
        int runs = probe.runsOf(1);
        if (runs == 0) {
            r.r1 = NOBODY;
        } else if (runs > 1) {
            r.r1 = MORE_THAN_ONCE;
        } else {
            r.r1 = probe.ranOn(1) == stageThread ? FIRST_DRAIN : PRODUCERS_DRAIN;
        }
        r.r3 = probe.ranEachOnceInOrder(new int[] {0, 1}) ? 1 : 0;
        int before = stage.dispatches();
        boolean idle = mailbox.isIdle() && mailbox.owner() == null;
        probe.offer(mailbox, 2);
        stage.runAll();
        r.r5 = idle && stage.dispatches() == before + 1 && probe.runsOf(2) == 1 && mailbox.isIdle() ? 1 : 0;
        r.r4 = probe.violations();
    }
}
