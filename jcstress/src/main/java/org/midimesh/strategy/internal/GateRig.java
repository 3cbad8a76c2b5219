package org.midimesh.strategy.internal;

import java.util.List;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.strategy.spi.ConnectionEngine;
import org.midimesh.api.strategy.spi.Handover;
import org.midimesh.api.transport.DataFrame;

/**
 * One connection's real {@link CommandGate} with everything around it faked, for one trial of a gate stress test: an
 * old and a new {@link Engine}, the "current engine" field the mover publishes (as {@code ManagedConnection.running}),
 * and a helper executor whose tasks the arbiter runs after the actors. {@link #issue} and {@link #move} are the
 * caller's and the mover's halves of {@code ManagedConnection}, minus the engines' handover. Commands record which
 * engine ran them, when, and on which thread; the arbiter turns that into the outcome words below.
 */
final class GateRig {

    static final int OLD = 1;
    static final int NEW = 2;
    /** The mover's bound on {@link CommandGate#shut}: only a hang guard (a descheduled caller takes milliseconds). */
    static final long SHUT_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(5);

    final Engine oldEngine = new Engine(OLD);
    final Engine newEngine = new Engine(NEW);
    // Written by the mover after shut and before open; read by a caller after entering and by every drain (the gate's
    // supplier). The volatile write publishes the new engine, as ManagedConnection.running does.
    private volatile Engine current = oldEngine;
    // Drain tasks handed to the helper. Nothing runs them during the actors: the arbiter plays the helper afterwards.
    private final ConcurrentLinkedQueue<Runnable> helperTasks = new ConcurrentLinkedQueue<>();
    final CommandGate gate = new CommandGate(() -> current, helperTasks::add);
    // Stamps every command run, on any engine and thread: its increments are totally ordered, so stamps give the
    // order in which commands took effect.
    private final AtomicInteger clock = new AtomicInteger();

    // Each written by one actor at its start, read by the arbiter after the actors (classifying who ran a command).
    private Thread callerThread;
    private Thread moverThread;
    // True while the arbiter plays the helper; read by every command run. Written on the arbiter's thread only, after
    // the actors are done, so a command run by an actor reads false and one run by the helper reads true.
    private boolean helping;
    // What the mover saw; written by the mover, read by the arbiter.
    private boolean shutTimedOut;
    private boolean insideOldAtShut;

    /** The caller's half of {@code ManagedConnection.command}: in and run on the current engine, or held. */
    void issue(Command c) {
        callerThread = Thread.currentThread();
        pass(c);
    }

    private void pass(Command c) {
        if (gate.enterOrHold(c)) {
            c.entered = true;
            try {
                c.accept(current);
            } finally {
                gate.exit();
            }
        }
    }

    /**
     * The mover's half of {@code ManagedConnection.move}: shut, retire the old engine, publish the new one, open. On a
     * timeout the gate is opened again with the old engine (as {@code move} does), and the outcome says so.
     */
    void move() {
        moverThread = Thread.currentThread();
        if (!gate.shut(SHUT_TIMEOUT_NANOS)) {
            shutTimedOut = true;
            gate.open();
            return;
        }
        retireOld();
        publishAndOpen();
    }

    /** Shuts the gate before the trial starts (no command yet, so it returns at once) and retires the old engine. */
    void shutBeforeTrial() {
        if (!gate.shut(SHUT_TIMEOUT_NANOS)) {
            throw new IllegalStateException("an idle gate did not shut");
        }
        retireOld();
    }

    /** The end of a move: the new engine, then open (which drains up to one slice on this thread). */
    void publishAndOpen() {
        moverThread = Thread.currentThread();
        current = newEngine;
        gate.open();
    }

    /**
     * Shut returned: the old engine must get no command from now on. With {@link Engine#inside} this is a Dekker
     * pair: a command inside the old engine now, or one entering it later, is seen by one side or the other.
     */
    private void retireOld() {
        oldEngine.retired = true;
        if (oldEngine.inside.get() != 0) {
            insideOldAtShut = true;
        }
    }

    /** The helper's turn, after the actors: runs every drain task handed to it (and any they hand on). */
    void playHelper() {
        helping = true;
        Runnable task;
        while ((task = helperTasks.poll()) != null) {
            task.run();
        }
        helping = false;
    }

    /**
     * How {@code c} went: "entered" (let in, run by its caller) or "held" (queued), then the engine it ran on ("old",
     * "new"), or "never ran", or "ran twice". After {@link #playHelper}.
     */
    String path(Command c) {
        String how = c.entered ? "entered " : "held ";
        int runs = c.runs.get();
        if (runs == 0) {
            return how + "never ran";
        }
        if (runs > 1) {
            return how + "ran twice";
        }
        return how + (c.engine == OLD ? "old" : "new");
    }

    /** Who ran {@code c}: "by caller", "by mover" (open's drain), "by helper", or "by nobody" / "by several". */
    String who(Command c) {
        int runs = c.runs.get();
        if (runs != 1) {
            return runs == 0 ? "by nobody" : "by several";
        }
        if (c.byHelper) {
            return "by helper";
        }
        return c.ranOn == callerThread ? "by caller" : c.ranOn == moverThread ? "by mover" : "by another thread";
    }

    /**
     * "in order" when {@code first} took effect before {@code second}, "second first" if not, "-" unless both ran
     * once.
     */
    static String order(Command first, Command second) {
        if (first.runs.get() != 1 || second.runs.get() != 1) {
            return "-";
        }
        return first.at < second.at ? "in order" : "second first";
    }

    /**
     * "clean", or every violation seen, joined by "+": the mover's shut timed out ("shut timed out"), a command was
     * inside the old engine when shut returned ("inside old at shut"), a command ran on the old engine after shut
     * returned ("ran on retired old"), the gate was left with a command held or running or still shut ("gate not
     * idle"), or a later command did not go straight into the current engine ("later command not straight in"). Call
     * it after {@link #path} and {@link #who}: the later command would drain a stranded one.
     */
    String checks(Command... commands) {
        StringJoiner v = new StringJoiner("+");
        if (shutTimedOut) {
            v.add("shut timed out");
        }
        if (insideOldAtShut) {
            v.add("inside old at shut");
        }
        for (Command c : commands) {
            if (c.onRetired) {
                v.add("ran on retired old");
                break;
            }
        }
        if (gate.heldCount() != 0 || gate.runningCount() != 0 || gate.isShut()) {
            v.add("gate not idle");
        }
        Command later = new Command(this);
        pass(later);
        if (!later.entered || later.runs.get() != 1 || later.engine != (shutTimedOut ? OLD : NEW)) {
            v.add("later command not straight in");
        }
        return v.length() == 0 ? "clean" : v.toString();
    }

    /** A command that records where, when and on which thread it ran. */
    static final class Command implements Consumer<ConnectionEngine> {

        private final GateRig rig;
        // An atomic, so that two threads running it at once (a broken gate) still count two runs.
        private final AtomicInteger runs = new AtomicInteger();
        // Written by whoever runs the command (once, with a correct gate), read by the arbiter after the actors and
        // the helper's turn, which happen after every run.
        private int engine;
        private int at;
        private Thread ranOn;
        private boolean byHelper;
        private boolean onRetired;
        // Written by the issuing caller only, read by the arbiter.
        private boolean entered;

        Command(GateRig rig) {
            this.rig = rig;
        }

        @Override
        public void accept(ConnectionEngine e) {
            Engine g = (Engine) e;
            g.inside.incrementAndGet();
            if (g.retired) {
                onRetired = true;
            }
            engine = g.id;
            at = rig.clock.incrementAndGet();
            ranOn = Thread.currentThread();
            byHelper = rig.helping;
            runs.incrementAndGet();
            g.inside.decrementAndGet();
        }
    }

    /** An engine that is only an identity: commands record it; the gate never calls it. */
    static final class Engine implements ConnectionEngine {

        final int id;
        // Commands inside this engine now: changed by whoever runs one, read by the mover right after shut returned.
        final AtomicInteger inside = new AtomicInteger();
        // Set by the mover once shut returned (read by every command run on this engine): from then on it must get no
        // command. Volatile, so that it and inside form a Dekker pair (see GateRig.retireOld).
        volatile boolean retired;

        Engine(int id) {
            this.id = id;
        }

        private static UnsupportedOperationException unused() {
            return new UnsupportedOperationException("the gate tests' engines are only identities");
        }

        @Override
        public void connect() {
            throw unused();
        }

        @Override
        public void disconnect() {
            throw unused();
        }

        @Override
        public void handshakeCompleted(Handshake peer) {
            throw unused();
        }

        @Override
        public void goodbyeReceived() {
            throw unused();
        }

        @Override
        public void notifyHeartbeat() {
            throw unused();
        }

        @Override
        public void checkHeartbeat() {
            throw unused();
        }

        @Override
        public boolean send(DataFrame frame) {
            throw unused();
        }

        @Override
        public ConnectionState getState() {
            throw unused();
        }

        @Override
        public Optional<NodeId> getRemoteId() {
            throw unused();
        }

        @Override
        public Optional<NodeInfo> getRemoteNode() {
            throw unused();
        }

        @Override
        public List<DeviceInfo> getRemoteDevices() {
            throw unused();
        }

        @Override
        public long getTimeSinceLastHeartbeat() {
            throw unused();
        }

        @Override
        public ConnectionMetrics metrics() {
            throw unused();
        }

        @Override
        public Handover beginHandover() {
            throw unused();
        }

        @Override
        public void completeHandover() {
            throw unused();
        }

        @Override
        public void abortHandover() {
            throw unused();
        }

        @Override
        public void close() {
            throw unused();
        }

        @Override
        public String toString() {
            return id == OLD ? "old engine" : "new engine";
        }
    }
}
