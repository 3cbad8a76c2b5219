package org.midimesh.connection.mutex.internal;

import java.util.LinkedHashMap;
import java.util.Map;

import org.midimesh.api.connection.ConnectionMetrics;

/**
 * One reading of a mutex connection's counters, or their sum over a strategy: the workplan's Appendix C counters plus
 * the mutex strategy's own. Immutable. The counters are read one by one, so a reading taken while the connection is
 * busy may mix values a few nanoseconds apart. {@link #toApi} turns it into the API's {@link ConnectionMetrics}.
 *
 * @param totalQueries        calls of the query methods (getState, getRemoteId, getRemoteNode, getRemoteDevices,
 *                            getTimeSinceLastHeartbeat)
 * @param mutexContentions    queries whose first, non-waiting {@code tryLock} failed; every query that then timed out
 *                            is among them
 * @param commandContentions  command lock acquisitions whose first {@code tryLock} failed
 * @param callbacksDispatched listener methods invoked on the notification thread
 * @param lockTimeouts        acquisitions (queries, sends or commands) that gave up after the lock timeout
 * @param deferredCommands    commands run later on the notification thread (after a lock timeout, or queued behind
 *                            such a command to keep the order)
 * @param droppedCommands     commands given up for good (each got an ERROR log and an error callback)
 * @param sendErrors          sends the peer link refused with an exception
 * @param listenerErrors      listener calls that threw
 * @param errors              error callbacks queued (handshake failures, heartbeat timeouts, dropped commands,
 *                            rejected handshakes)
 * @param droppedMessages     frames refused (not connected, closed) or lost (the link threw)
 * @param waitingCommands     commands waiting for a retry on the notification thread now
 */
public record MutexConnectionMetrics(long totalQueries, long mutexContentions, long commandContentions,
        long callbacksDispatched, long lockTimeouts, long deferredCommands, long droppedCommands, long sendErrors,
        long listenerErrors, long errors, long droppedMessages, int waitingCommands) {

    /** All zero. */
    public static final MutexConnectionMetrics ZERO = new MutexConnectionMetrics(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    /** {@code 100 * mutexContentions / totalQueries}, 0 before the first query. */
    public double contentionPercent() {
        return totalQueries > 0 ? 100.0 * mutexContentions / totalQueries : 0.0;
    }

    /** Field by field sum, for strategy totals. */
    public MutexConnectionMetrics plus(MutexConnectionMetrics o) {
        return new MutexConnectionMetrics(totalQueries + o.totalQueries, mutexContentions + o.mutexContentions,
                commandContentions + o.commandContentions, callbacksDispatched + o.callbacksDispatched,
                lockTimeouts + o.lockTimeouts, deferredCommands + o.deferredCommands,
                droppedCommands + o.droppedCommands, sendErrors + o.sendErrors, listenerErrors + o.listenerErrors,
                errors + o.errors, droppedMessages + o.droppedMessages, waitingCommands + o.waitingCommands);
    }

    /** The same counters with no command waiting: what a retired connection adds to the totals. */
    public MutexConnectionMetrics withoutWaitingCommands() {
        return new MutexConnectionMetrics(totalQueries, mutexContentions, commandContentions, callbacksDispatched,
                lockTimeouts, deferredCommands, droppedCommands, sendErrors, listenerErrors, errors, droppedMessages,
                0);
    }

    /**
     * The API view. The mutex strategy has no command worker: {@code commands_processed} is 0 and
     * {@code queue_depth} counts the commands waiting for a retry after a lock timeout (normally 0).
     */
    public ConnectionMetrics toApi(ConnectionMetrics.LatencySummary latency) {
        return new ConnectionMetrics(MutexNetworkConnection.STRATEGY, totalQueries, mutexContentions,
                callbacksDispatched, 0, waitingCommands, latency, errors, droppedMessages);
    }

    /** The Appendix C names first (snake_case), then ours; a stable order. */
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
        m.put("command_contentions", commandContentions);
        m.put("lock_timeouts", lockTimeouts);
        m.put("deferred_commands", deferredCommands);
        m.put("dropped_commands", droppedCommands);
        m.put("send_errors", sendErrors);
        m.put("listener_errors", listenerErrors);
        return m;
    }
}
