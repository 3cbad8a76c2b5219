package org.midimesh.connection.mutex.internal;

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
 * The queries of a real {@link MutexConnectionEngine} while a command applies a handshake, with the readers forced
 * onto the lock-free path. A query first tries the connection lock; when its bounded wait runs out it answers from
 * {@code published}, the immutable snapshot (state, node, closed) written as the last step under the lock, and
 * {@code getRemoteDevices} always reads the immutable list behind the {@code remoteDevices} atomic reference, set
 * under the lock before that snapshot. A reader that sees CONNECTED, by either path, must see the peer's node and its
 * whole device list; node and list must never come from two different moments.
 * <p>The engine is built with its own constructor and a real {@link MutexConnectionEngine.Env}. Its lock
 * timeout supplier gives the reader actor 0 ms, so any query that finds the lock taken (the handshake is being
 * applied right then) reads the published snapshot at once, which is the path under test; the writer gets 10 s, so its
 * command always gets the lock instead of being deferred and possibly dropped. Notification runs inline, into an
 * {@link EngineEvents} that ignores the events. The arbiter checks that the handshake was applied, and tells (from the
 * engine's lock-timeout counter) whether the reader took the snapshot path at least once in that trial.
 * <p>Result: state read, node read, device list read, and the state after both actors (with the reader's path).
 */
@JCStressTest
@Description("mutex engine: a reader that sees CONNECTED (from the lock or the published snapshot) sees the peer")
@Outcome(id = {"DISCONNECTED, no node, no devices, applied", "CONNECTED, node, 3 devices, applied"},
        expect = ACCEPTABLE, desc = "Every read came before (or after) the handshake, under the lock.")
@Outcome(id = {"DISCONNECTED, no node, no devices, applied, snapshot read",
        "CONNECTED, node, 3 devices, applied, snapshot read"}, expect = ACCEPTABLE_INTERESTING, desc = "Every read "
                + "came before (or after) the handshake; at least one found the lock taken and read the published "
                + "snapshot.")
@Outcome(id = {"DISCONNECTED, no node, 3 devices, applied", "DISCONNECTED, node, 3 devices, applied",
        "DISCONNECTED, no node, 3 devices, applied, snapshot read",
        "DISCONNECTED, node, 3 devices, applied, snapshot read"}, expect = ACCEPTABLE_INTERESTING, desc = "The "
                + "handshake took effect between two reads: the state read first was still DISCONNECTED, the node or "
                + "the device list read later was already new (the list is set under the lock before the snapshot).")
@Outcome(expect = FORBIDDEN, desc = "CONNECTED without the peer's node or its whole device list (the snapshot or the "
        + "state published before the peer), a node without its devices, a half-built list, a state other than "
        + "DISCONNECTED or CONNECTED, or the handshake never applied.")
@State
public class MutexSnapshotPublicationStress {

    private static final Executor DIRECT = Runnable::run;
    private static final Executor NO_HANDSHAKES = task -> {
        throw new RejectedExecutionException("the stress tests make no outbound handshakes");
    };
    // Marks the reader actor's thread: its lock waits time out at once. Set by both actors on every call (cheap, no
    // fence), since a thread that ran the reader in one run of the test may run the writer in the next.
    private static final ThreadLocal<Boolean> READER = ThreadLocal.withInitial(() -> Boolean.FALSE);
    private static final long WRITER_LOCK_TIMEOUT_MS = 10_000;
    // One latency histogram for every engine of the fork, as a strategy has one for all its engines. No notification
    // thread: events are delivered inline.
    private static final MutexConnectionEngine.Env ENV = new MutexConnectionEngine.Env(DIRECT, NO_HANDSHAKES,
            () -> READER.get() ? 0 : WRITER_LOCK_TIMEOUT_MS, () -> 1_000, () -> null, c -> {
            }, new AtomicHistogram(1, 10_000_000_000L, 2));
    private static final EngineEvents IGNORED = new EngineEvents() {
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

    private final MutexConnectionEngine engine = new MutexConnectionEngine(StressPeer.CONTEXT, IGNORED, ENV);

    @Actor
    public void writer() {
        READER.set(Boolean.FALSE);
        engine.handshakeCompleted(StressPeer.HANDSHAKE);
    }

    @Actor
    public void reader(LLLL_Result r) {
        READER.set(Boolean.TRUE);
        r.r1 = engine.getState().name();
        r.r2 = StressPeer.describe(engine.getRemoteNode());
        r.r3 = StressPeer.describe(engine.getRemoteDevices());
    }

    @Arbiter
    public void arbiter(LLLL_Result r) {
        MutexConnectionMetrics m = engine.detailedMetrics(); // before the queries below, which take the free lock
        boolean applied = engine.getState() == CONNECTED
                && StressPeer.describe(engine.getRemoteNode()) == StressPeer.NODE_SEEN
                && StressPeer.describe(engine.getRemoteDevices()) == StressPeer.ALL_DEVICES
                && m.droppedCommands() == 0 && m.deferredCommands() == 0;
        r.r4 = !applied ? "not applied" : m.lockTimeouts() > 0 ? "applied, snapshot read" : "applied";
    }
}
