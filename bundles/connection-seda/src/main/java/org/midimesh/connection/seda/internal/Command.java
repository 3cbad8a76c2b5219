package org.midimesh.connection.seda.internal;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import org.midimesh.api.connection.Handshake;
import org.midimesh.api.strategy.spi.Handover;
import org.midimesh.api.transport.DataFrame;

/**
 * The commands of a {@link SedaConnectionEngine} (workplan B.1). Immutable, except that the two carrying a future
 * complete it once. Created on any thread, run by the engine's mailbox owner.
 */
sealed interface Command {

    /** Short name for logs and error events. */
    String name();

    Command CONNECT = new Simple("connect");
    Command DISCONNECT = new Simple("disconnect");
    Command GOODBYE = new Simple("goodbyeReceived");
    Command CHECK_HEARTBEAT = new Simple("checkHeartbeat");
    Command CLOSE = new Simple("close");
    /**
     * Queued by abortHandover: makes sure the worker runs once after a called-off handover, so the frames it held for
     * the successor go out even if no other command comes. Does nothing itself (every command flushes them first).
     */
    Command RESUME = new Simple("resume");
    /** Coalesced heartbeat notification: the worker takes the latest arrival time when it runs it. */
    Command HEARTBEAT = new Simple("notifyHeartbeat");

    /** A command without arguments; compared by identity with the constants above. */
    record Simple(String name) implements Command {
    }

    /** MIDI for the peer: the only data command (bounded by the queue capacity, never by the control reserve). */
    record Send(DataFrame frame) implements Command {
        @Override
        public String name() {
            return "send";
        }
    }

    /** An inbound handshake, or a peer's answer to ours delivered by the mesh. */
    record HandshakeCompleted(Handshake peer) implements Command {
        @Override
        public String name() {
            return "handshakeCompleted";
        }
    }

    /**
     * The outcome of the outbound handshake of {@code generation}: {@code peer} or a {@code failure} text. Internal:
     * posted by the handshake thread, so it may still arrive during or after a handover.
     */
    record HandshakeResult(long generation, Handshake peer, String failure) implements Command {
        @Override
        public String name() {
            return "handshakeResult";
        }
    }

    /** A query answered by the worker: completes {@code result} with a {@link WorkerSnapshot}. */
    record Inspect(CompletableFuture<WorkerSnapshot> result, long enqueuedNanos) implements Command {
        @Override
        public String name() {
            return "inspect";
        }
    }

    /**
     * First command of an adopted engine: sends the predecessor's frames, and dials a handshake of its own when the
     * handover was CONNECTING ({@code redial}).
     */
    record Adopted(List<DataFrame> frames, boolean redial) implements Command {
        @Override
        public String name() {
            return "adopted";
        }
    }

    /**
     * The handover point (beginHandover). Whoever moves {@link #phase} first decides: the worker takes it (and
     * completes {@link #result}) or the caller cancels it after its timeout (and the worker skips it). While it is
     * PENDING the worker holds MIDI frames for the successor instead of sending them.
     */
    final class Barrier implements Command {
        static final int PENDING = 0;
        static final int TAKEN = 1;
        static final int CANCELLED = 2;

        // PENDING -> TAKEN (worker) or PENDING -> CANCELLED (caller), by CAS, once; also read by the worker on every
        // send. Orders nothing else: the result travels in the future, whose completion publishes the handover record.
        final AtomicInteger phase = new AtomicInteger(PENDING);
        final CompletableFuture<Handover> result = new CompletableFuture<>();

        @Override
        public String name() {
            return "beginHandover";
        }
    }
}
