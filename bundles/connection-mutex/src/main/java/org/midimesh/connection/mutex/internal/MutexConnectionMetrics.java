package org.midimesh.connection.mutex.internal;

import java.util.LinkedHashMap;
import java.util.Map;

import org.midimesh.api.connection.ConnectionMetrics;

/**
 * One reading of a mutex engine's counters, or their sum over a strategy: the workplan's Appendix C counters plus
 * the mutex strategy's own. Immutable. The counters are read one by one, so a reading taken while the engine is busy
 * may mix values a few nanoseconds apart. {@link #toApi} turns it into the API's {@link ConnectionMetrics}.
 *
 * @param totalQueries        calls of the query methods (getState, getRemoteId, getRemoteNode, getRemoteDevices,
 *                            getTimeSinceLastHeartbeat)
 * @param mutexContentions    queries whose first, non-waiting {@code tryLock} failed; every query that then timed out
 *                            is among them
 * @param commandContentions  command lock acquisitions whose first {@code tryLock} failed
 * @param callbacksDispatched events delivered to the engine's {@code EngineEvents} on the notification thread (one
 *                            per event)
 * @param lockTimeouts        bounded lock waits (of queries, sends, commands, retries or beginHandover) that gave up
 * @param handoverTimeouts    beginHandover waits (for deferred commands, or for pending events) that ran out of the
 *                            handover timeout, so the handover was refused
 * @param deferredCommands    commands run later on the notification thread (after a lock timeout, or queued behind
 *                            such a command to keep the order)
 * @param droppedCommands     commands given up for good (each got an ERROR log, and an error event unless a handover
 *                            had begun)
 * @param sendErrors          sends the peer link refused with an exception
 * @param listenerErrors      event deliveries that threw
 * @param errors              error events queued (handshake failures, heartbeat timeouts, dropped commands,
 *                            rejected handshakes)
 * @param droppedMessages     frames refused (not connected, closed) or lost (the link threw)
 * @param waitingCommands     commands waiting for a retry on the notification thread now
 */
public record MutexConnectionMetrics(long totalQueries, long mutexContentions, long commandContentions,
        long callbacksDispatched, long lockTimeouts, long handoverTimeouts, long deferredCommands,
        long droppedCommands, long sendErrors, long listenerErrors, long errors, long droppedMessages,
        int waitingCommands) {

    /** All zero. */
    public static final MutexConnectionMetrics ZERO =
            new MutexConnectionMetrics(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    /** {@code 100 * mutexContentions / totalQueries}, 0 before the first query. */
    public double contentionPercent() {
        return totalQueries > 0 ? 100.0 * mutexContentions / totalQueries : 0.0;
    }

    /**
     * The API's {@code stalls}: {@code lockTimeouts + handoverTimeouts}, every bounded wait that ran out. A dropped
     * command is not added again: it is dropped after {@value MutexConnectionEngine#MAX_COMMAND_ATTEMPTS} lock
     * timeouts, which are counted already.
     */
    public long stalls() {
        return lockTimeouts + handoverTimeouts;
    }

    /** Field by field sum, for strategy totals. */
    public MutexConnectionMetrics plus(MutexConnectionMetrics o) {
        return new MutexConnectionMetrics(totalQueries + o.totalQueries, mutexContentions + o.mutexContentions,
                commandContentions + o.commandContentions, callbacksDispatched + o.callbacksDispatched,
                lockTimeouts + o.lockTimeouts, handoverTimeouts + o.handoverTimeouts,
                deferredCommands + o.deferredCommands, droppedCommands + o.droppedCommands, sendErrors + o.sendErrors,
                listenerErrors + o.listenerErrors, errors + o.errors, droppedMessages + o.droppedMessages,
                waitingCommands + o.waitingCommands);
    }

    /** The same counters with no command waiting: what a retired engine adds to the totals. */
    public MutexConnectionMetrics withoutWaitingCommands() {
        return new MutexConnectionMetrics(totalQueries, mutexContentions, commandContentions, callbacksDispatched,
                lockTimeouts, handoverTimeouts, deferredCommands, droppedCommands, sendErrors, listenerErrors, errors,
                droppedMessages, 0);
    }

    /**
     * The API view. The mutex strategy has no command worker: {@code commands_processed} is 0 and
     * {@code queue_depth} counts the commands waiting for a retry after a lock timeout (normally 0); {@code stalls}
     * is {@link #stalls()}.
     */
    public ConnectionMetrics toApi(ConnectionMetrics.LatencySummary latency) {
        return new ConnectionMetrics(MutexConnectionEngine.STRATEGY, totalQueries, mutexContentions,
                callbacksDispatched, 0, waitingCommands, latency, errors, droppedMessages, stalls());
    }

    /** The Appendix C names first (snake_case), then the API's stalls, then ours; a stable order. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("total_queries", totalQueries);
        m.put("mutex_contentions", mutexContentions);
        m.put("contention_percent", contentionPercent());
        m.put("callbacks_dispatched", callbacksDispatched);
        m.put("commands_processed", 0L);
        m.put("queue_depth", waitingCommands);
        m.put("errors", errors);
        m.put("dropped_messages", droppedMessages);
        m.put("stalls", stalls());
        m.put("command_contentions", commandContentions);
        m.put("lock_timeouts", lockTimeouts);
        m.put("handover_timeouts", handoverTimeouts);
        m.put("deferred_commands", deferredCommands);
        m.put("dropped_commands", droppedCommands);
        m.put("send_errors", sendErrors);
        m.put("listener_errors", listenerErrors);
        return m;
    }
}
