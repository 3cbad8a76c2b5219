package org.midimesh.strategy.internal;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.LLLL_Result;

/**
 * One caller issues two commands, first then second, through a real {@link CommandGate} while the mover moves the
 * connection ({@link GateRig#move}). They must take effect in issue order, each exactly once: the second never
 * before the first, and never on the old engine once the first was held (a held first command means the gate was
 * shut, so the old engine is gone for everything after it). A first command entered on the old engine may be followed
 * by a second one on either engine.
 * <p>Result: how the first command went, how the second went ("entered" or "held", then the engine it ran on), their
 * order ("in order" by the commands' stamps, "second first", or "-" unless both ran once), and the checks: "clean" or
 * the violations ({@link GateRig#checks}).
 */
@JCStressTest
@Description("strategy gate: one caller's two commands racing shut/open take effect in issue order")
@Outcome(id = "entered old, entered old, in order, clean", expect = ACCEPTABLE, desc = "Both came in before shut "
        + "set SHUT; shut waited for the second to leave.")
@Outcome(id = "entered old, held new, in order, clean", expect = ACCEPTABLE, desc = "Shut came between them: the "
        + "second was held and ran on the new engine after open.")
@Outcome(id = "entered old, entered new, in order, clean", expect = ACCEPTABLE, desc = "The whole move came between "
        + "them: the second went straight into the new engine.")
@Outcome(id = "entered new, entered new, in order, clean", expect = ACCEPTABLE, desc = "Both came after open.")
@Outcome(id = "held new, held new, in order, clean", expect = ACCEPTABLE, desc = "The first was held; the second "
        + "found it still queued (or being drained) and queued behind it.")
@Outcome(id = "held new, entered new, in order, clean", expect = ACCEPTABLE, desc = "The first was held and open's "
        + "drain had run it before the second came, which went straight into the new engine.")
@Outcome(expect = FORBIDDEN, desc = "The second took effect before the first, or on the old engine after the first "
        + "was held; a command ran on the old engine after shut returned, or was inside it when shut returned; one was "
        + "lost or ran twice; shut timed out; or the gate was left shut, with a command counted in, or so that a later "
        + "command was held.")
@State
public class CommandGateOrderStress {

    private final GateRig rig = new GateRig();
    private final GateRig.Command first = new GateRig.Command(rig);
    private final GateRig.Command second = new GateRig.Command(rig);

    @Actor
    public void caller() {
        rig.issue(first);
        rig.issue(second);
    }

    @Actor
    public void mover() {
        rig.move();
    }

    @Arbiter
    public void arbiter(LLLL_Result r) {
        rig.playHelper();
        r.r1 = rig.path(first);
        r.r2 = rig.path(second);
        r.r3 = GateRig.order(first, second);
        r.r4 = rig.checks(first, second);
    }
}
