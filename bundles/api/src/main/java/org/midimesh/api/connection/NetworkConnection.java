package org.midimesh.api.connection;

import java.util.List;
import java.util.Optional;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.transport.DataFrame;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * The logical connection to one peer node (the workplan's NetworkConnection). Made by a {@link ConnectionStrategy}.
 * <p>All methods are thread-safe. Commands ({@link #connect}, {@link #disconnect}, ...) return at once and take effect
 * asynchronously; queries return a consistent snapshot and never block on the network. Listeners are called as the
 * package documentation states.
 */
@ConsumerType
public interface NetworkConnection {

    /** Name of the strategy that made this connection, for example {@code mutex}. */
    String strategy();

    /** Starts the outbound handshake unless already connecting or connected. */
    void connect();

    /** Drops the connection: DISCONNECTED, no more datagrams are sent. */
    void disconnect();

    /**
     * The peer completed a handshake with us (inbound), or answered ours: record its node and devices, refresh the
     * heartbeat time and enter CONNECTED.
     */
    void handshakeCompleted(Handshake peer);

    /** The peer said goodbye: enter DISCONNECTED without sending anything. */
    void goodbyeReceived();

    ConnectionState getState();

    /** The peer's identity once known (after the first handshake). */
    Optional<NodeId> getRemoteId();

    /** The peer's node as last announced, or empty before the first handshake. */
    Optional<NodeInfo> getRemoteNode();

    /** The peer's devices as last announced: an immutable snapshot, never a half-written list. */
    List<DeviceInfo> getRemoteDevices();

    /** Milliseconds since the last heartbeat (or handshake) from the peer; {@code Long.MAX_VALUE} if never. */
    long getTimeSinceLastHeartbeat();

    /** A heartbeat arrived from the peer. */
    void notifyHeartbeat();

    /** Checks the heartbeat age: a CONNECTED connection whose peer is silent beyond the timeout becomes FAILED. */
    void checkHeartbeat();

    /**
     * Sends MIDI to the peer when CONNECTED.
     *
     * @return false when not connected (nothing was sent)
     */
    boolean send(DataFrame frame);

    /** This connection's counters now (workplan Appendix C). Never blocks. */
    ConnectionMetrics metrics();

    /**
     * First half of a move to another strategy. From this call on the connection runs nothing itself: commands that
     * arrive later (from threads still holding this connection) are kept, in order, for the successor. Work already
     * under way finishes first, bounded by the strategy's own timeouts. Listeners are not told anything: for them the
     * connection simply continues. Called at most once, unless the handover was aborted.
     *
     * @return the state the successor must continue from
     * @throws IllegalStateException when closed or already handing over
     */
    ConnectionHandover beginHandover();

    /**
     * Second half: replays the commands kept since {@link #beginHandover()} on {@code successor}, in order, then
     * forwards every later call to it. After this the connection owns no resources; {@link #close()} is a no-op.
     */
    void completeHandover(NetworkConnection successor);

    /**
     * Instead of {@link #completeHandover}, when no successor could be made (the other strategy refused the state or is
     * gone): the connection takes over again as if the handover never began. The commands kept since
     * {@link #beginHandover()} run on it, in order, before any later one; frames held for the successor are sent; a
     * handshake that beginHandover abandoned is dialled again. Listeners are not told anything. A later
     * {@link #beginHandover()} may try again.
     *
     * @throws IllegalStateException when no handover has begun or it is already complete
     */
    void abortHandover();

    void addListener(ConnectionListener listener);

    void removeListener(ConnectionListener listener);

    /** Releases the connection's resources for good; it says nothing to the peer. Idempotent. */
    void close();
}
