package org.midimesh.connection.seda.internal;

import static org.midimesh.api.connection.ConnectionState.CONNECTED;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

import org.HdrHistogram.AtomicHistogram;
import org.midimesh.api.DeviceInfo;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.strategy.spi.EngineEvents;
import org.midimesh.jcstress.StressPeer;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.LLLL_Result;

/**
 * The lock-free queries of a real {@link SedaConnectionEngine} while its worker applies a handshake. The worker
 * publishes the peer (node and device list in one immutable record, {@code publishedPeer}) and then the state
 * ({@code publishedState}), both volatile; a reader that sees CONNECTED must see that peer and its whole device list,
 * and the node and the list must never come from two different moments (never a node without its devices, never a
 * half-built list).
 * <p>The engine is built with its own constructor and real {@link SedaConnectionEngine.Stages}: the worker stage is
 * a direct executor, so the handshake command's drain task runs at once on the worker actor's thread (the mailbox
 * owner), which is what a SEDA worker thread does. No handshake executor is needed: the inbound handshake
 * ({@code handshakeCompleted}) makes no outbound call. The notification stage drops the event tasks the worker posts
 * (delivery is not under test, and its allocations would only thin out the trials).
 * The reader reads as a caller does, through {@code getState}, {@code getRemoteNode}, {@code getRemoteDevices}, in
 * that order. The arbiter checks that the handshake was applied at all (else every read would trivially be "before").
 * <p>Result: state read, node read, device list read, and the state after both actors.
 */
@JCStressTest
@Description("SEDA engine: a reader that sees CONNECTED sees the peer and its whole device list")
@Outcome(id = "DISCONNECTED, no node, no devices, applied", expect = ACCEPTABLE, desc = "Every read came before the "
        + "worker published the handshake.")
@Outcome(id = "CONNECTED, node, 3 devices, applied", expect = ACCEPTABLE, desc = "Every read came after the worker "
        + "published the handshake: state, node and the whole device list.")
@Outcome(id = "DISCONNECTED, no node, 3 devices, applied", expect = ACCEPTABLE_INTERESTING, desc = "The peer was "
        + "published between the node read and the device read; the state, written after the peer, was still old when "
        + "read first.")
@Outcome(id = "DISCONNECTED, node, 3 devices, applied", expect = ACCEPTABLE_INTERESTING, desc = "The peer was "
        + "published between the state read and the node read (the state comes after the peer, so it was still "
        + "DISCONNECTED).")
@Outcome(expect = FORBIDDEN, desc = "CONNECTED without the peer's node or its whole device list (the state published "
        + "before the peer), a node without its devices (node and list from different moments), a half-built list, a "
        + "state other than DISCONNECTED or CONNECTED, or the handshake never applied.")
@State
public class SedaSnapshotPublicationStress {

    private static final Executor DIRECT = Runnable::run;
    private static final Executor NO_HANDSHAKES = task -> {
        throw new RejectedExecutionException("the stress tests make no outbound handshakes");
    };
    private static final Executor DROP_EVENTS = task -> {
    };
    // One histogram for every engine of the fork, as a strategy has one for all its engines; sampled queries record
    // into it from any thread.
    private static final SedaConnectionEngine.Stages STAGES = new SedaConnectionEngine.Stages(DIRECT, NO_HANDSHAKES,
            DROP_EVENTS, t -> false, () -> 1_000, () -> true, new AtomicHistogram(1, 10_000_000_000L, 2), c -> {
            });
    // Never called: the notification stage drops every task.
    private static final EngineEvents NO_RECEIVER = new EngineEvents() {
        @Override
        public void stateChanged(ConnectionState from, ConnectionState to) {
        }

        @Override
        public void error(String message) {
        }

        @Override
        public void devicesChanged(List<DeviceInfo> devices) {
        }
    };

    private final SedaConnectionEngine engine = new SedaConnectionEngine(StressPeer.CONTEXT, NO_RECEIVER, STAGES,
            16, null);

    @Actor
    public void worker() {
        engine.handshakeCompleted(StressPeer.HANDSHAKE);
    }

    @Actor
    public void reader(LLLL_Result r) {
        r.r1 = engine.getState().name();
        r.r2 = StressPeer.describe(engine.getRemoteNode());
        r.r3 = StressPeer.describe(engine.getRemoteDevices());
    }

    @Arbiter
    public void arbiter(LLLL_Result r) {
        boolean applied = engine.getState() == CONNECTED
                && StressPeer.describe(engine.getRemoteNode()) == StressPeer.NODE_SEEN
                && StressPeer.describe(engine.getRemoteDevices()) == StressPeer.ALL_DEVICES
                && engine.commandFailures() == 0 && engine.mailbox().isIdle();
        r.r4 = applied ? "applied" : "not applied";
    }
}
