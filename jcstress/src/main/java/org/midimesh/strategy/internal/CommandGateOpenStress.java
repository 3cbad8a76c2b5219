package org.midimesh.strategy.internal;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.LLL_Result;

/**
 * Exactly the race between {@link CommandGate#open} and a caller counting itself into HELD. Each trial starts with the
 * real gate shut and the old engine retired (the mover's shut has returned). Then, at once, the caller issues one
 * command (seeing SHUT, it counts itself into HELD, then queues the command) and the mover publishes the new engine
 * and opens (clears SHUT, then drains what is queued). The held command must never be stranded: it runs exactly once,
 * on the new engine, whoever drains it; and the gate ends idle and open.
 * <p>Result: how the command went ("entered" or "held", then the engine it ran on), who ran it, and the checks:
 * "clean" or the violations ({@link GateRig#checks}).
 */
@JCStressTest
@Description("strategy gate: open racing a caller counting itself into HELD never strands the held command")
@Outcome(id = "held new, by mover, clean", expect = ACCEPTABLE, desc = "The caller was counted in and queued before "
        + "open's drain polled: open ran it on the new engine.")
@Outcome(id = "entered new, by caller, clean", expect = ACCEPTABLE, desc = "Open cleared SHUT before the caller's "
        + "CAS: straight into the new engine.")
@Outcome(id = "held new, by helper, clean", expect = ACCEPTABLE_INTERESTING, desc = "Held; open's drain was "
        + "descheduled past its slice and handed the queue to the helper, which ran it on the new engine.")
@Outcome(id = "held new, by caller, clean", expect = ACCEPTABLE_INTERESTING, desc = "Counted into HELD while shut, "
        + "but queued only after open had drained an empty queue; the caller saw the gate open by then and drained its "
        + "own command onto the new engine.")
@Outcome(id = "held never ran, by nobody, gate not idle+later command not straight in", expect = FORBIDDEN,
        desc = "Stranded: the caller was counted into HELD while shut, open's drain found the queue still empty (the "
        + "command not yet added) and let go, and the caller, having seen SHUT, did not drain. The command waits for "
        + "the next command on the connection, which may never come.")
@Outcome(expect = FORBIDDEN, desc = "The command ran on the old (retired) engine, ran twice or never, or the gate was "
        + "left shut, with a command counted in, or so that a later command was held.")
@State
public class CommandGateOpenStress {

    private final GateRig rig = new GateRig();
    private final GateRig.Command command = new GateRig.Command(rig);

    public CommandGateOpenStress() {
        rig.shutBeforeTrial();
    }

    @Actor
    public void caller() {
        rig.issue(command);
    }

    @Actor
    public void mover() {
        rig.publishAndOpen();
    }

    @Arbiter
    public void arbiter(LLL_Result r) {
        rig.playHelper();
        r.r1 = rig.path(command);
        r.r2 = rig.who(command);
        r.r3 = rig.checks(command);
    }
}
