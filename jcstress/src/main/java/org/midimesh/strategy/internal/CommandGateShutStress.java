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
 * A caller issues one command through a real {@link CommandGate} while the mover moves the connection: shut, retire
 * the old engine, publish the new one, open ({@link GateRig#move}). The command must take effect exactly once: on the
 * old engine, with shut returning only after it left; or held, and run on the new engine after open; or, when the
 * caller comes after the whole move, straight on the new engine. Never on the old engine once shut returned, never
 * lost, never twice; and afterwards the gate is idle and open, so a later command goes straight in.
 * <p>Result: how the command went ("entered" or "held", then the engine it ran on), who ran it (the caller, the mover
 * in open's drain, or the helper), and the checks: "clean" or the violations ({@link GateRig#checks}).
 */
@JCStressTest
@Description("strategy gate: a command racing shut/open runs once, on the old engine before shut returns or on the new "
        + "one after open")
@Outcome(id = "entered old, by caller, clean", expect = ACCEPTABLE, desc = "The caller came in before shut set SHUT: "
        + "shut waited until it had left the old engine.")
@Outcome(id = "held new, by mover, clean", expect = ACCEPTABLE, desc = "The caller came while the gate was shut: the "
        + "command was held, and open's drain ran it on the new engine.")
@Outcome(id = "entered new, by caller, clean", expect = ACCEPTABLE, desc = "The caller came after open: straight "
        + "into the new engine.")
@Outcome(id = "held new, by helper, clean", expect = ACCEPTABLE_INTERESTING, desc = "Held; open's drain was "
        + "descheduled past its slice and handed the queue to the helper, which ran it on the new engine.")
@Outcome(id = "held new, by caller, clean", expect = ACCEPTABLE_INTERESTING, desc = "Counted into HELD while shut, "
        + "but queued only after open had drained an empty queue; the caller saw the gate open by then and drained its "
        + "own command onto the new engine.")
@Outcome(id = "held never ran, by nobody, gate not idle+later command not straight in", expect = FORBIDDEN,
        desc = "Stranded: the command was counted into HELD while shut, open's drain found the queue still empty, "
        + "and nobody drained it once it was queued. It waits for the next command.")
@Outcome(expect = FORBIDDEN, desc = "The command ran on the old engine after shut returned, or was inside it when "
        + "shut returned; ran on the new engine although it entered before shut; ran twice or never; shut timed out; "
        + "or the gate was left shut, with a command counted in, or so that a later command was held.")
@State
public class CommandGateShutStress {

    private final GateRig rig = new GateRig();
    private final GateRig.Command command = new GateRig.Command(rig);

    @Actor
    public void caller() {
        rig.issue(command);
    }

    @Actor
    public void mover() {
        rig.move();
    }

    @Arbiter
    public void arbiter(LLL_Result r) {
        rig.playHelper();
        r.r1 = rig.path(command);
        r.r2 = rig.who(command);
        r.r3 = rig.checks(command);
    }
}
