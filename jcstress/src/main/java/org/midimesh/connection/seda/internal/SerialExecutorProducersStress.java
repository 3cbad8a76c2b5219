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
 * Two producers offer to one real {@link SerialExecutor} at once. The stage is a direct executor: the drain task that
 * a producer's offer hands to the stage when it wins the ownership token runs at once on that producer's thread. So
 * the mailbox passes between the two threads through the token alone, and each trial ends when both offers return.
 * Checks that every item runs exactly once, in its producer's order, never on two threads at once, and that the token
 * is free again afterwards.
 * <p>Result: items run, exactly-once-in-order (1/0), violations (overlapping handlers, the mailbox's single-owner
 * exception, a refused offer, a handler failure), threads that ran items, and whether a later offer still runs (1/0).
 */
@JCStressTest
@Description("SEDA mailbox: two producers offer at once; the token holder drains (direct stage)")
@Outcome(id = "4, 1, 0, 1, 1", expect = ACCEPTABLE_INTERESTING, desc = "One producer ran all four items: the other "
        + "offered while it held the token, and the owner picked those items up (by its polls, or by its re-check "
        + "after releasing the token). The MPSC hand-off itself.")
@Outcome(id = "4, 1, 0, 2, 1", expect = ACCEPTABLE, desc = "Both producers owned the mailbox in turn: the token was "
        + "released and won again, and each drain ran what it found.")
@Outcome(expect = FORBIDDEN, desc = "An item lost or run twice, a producer's items out of order, two threads inside "
        + "the handler at once (or the mailbox's single-owner check firing), a refused offer, or the token left taken "
        + "so that a later offer never runs.")
@State
public class SerialExecutorProducersStress {

    private static final Executor DIRECT = Runnable::run;

    private final MailboxProbe probe = new MailboxProbe(8);
    private final SerialExecutor<Integer> mailbox = new SerialExecutor<>("producers-stress", DIRECT, 8, 0, probe,
            probe::failed);

    @Actor
    public void producerA() {
        probe.offer(mailbox, 0);
        probe.offer(mailbox, 1);
    }

    @Actor
    public void producerB() {
        probe.offer(mailbox, 2);
        probe.offer(mailbox, 3);
    }

    @Arbiter
    public void arbiter(IIIII_Result r) {
        r.r1 = probe.count();
        r.r2 = probe.ranEachOnceInOrder(new int[] {0, 1}, new int[] {2, 3}) ? 1 : 0;
        r.r4 = probe.threads(4);
        // The token must be free again: a later offer takes it and, with the direct stage, runs here and now.
        boolean idle = mailbox.isIdle() && mailbox.owner() == null;
        probe.offer(mailbox, 4);
        r.r5 = idle && probe.count() == 5 && probe.runsOf(4) == 1 && mailbox.isIdle() ? 1 : 0;
        r.r3 = probe.violations();
    }
}
