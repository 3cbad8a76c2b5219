package org.midimesh.api.connection;

import java.util.List;
import java.util.Optional;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.transport.DataFrame;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The logical connection to one peer node (the workplan's NetworkConnection). One object per peer for the node's
 * lifetime: the pool holds it, listeners are told about it, routing sends through it. The strategy doing its work
 * may change underneath (hot swap) without the connection leaving its state, losing, duplicating or reordering a
 * message, or its listeners noticing anything but {@link #strategy()}.
 * <p>All methods are thread-safe. Commands ({@link #connect}, {@link #disconnect}, ...) return at once and take effect
 * asynchronously, in the order one thread issued them; queries return a consistent snapshot and never block on the
 * network. Listeners are called as the package documentation states.
 */
@ProviderType
public interface NetworkConnection {

    /** Name of the strategy running this connection now, for example {@code mutex}. */
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
     * Sends MIDI to the peer when CONNECTED. Frames one thread sends arrive in the order it sent them.
     *
     * @return false when not connected (nothing was sent)
     */
    boolean send(DataFrame frame);

    /** This connection's counters now (workplan Appendix C). Never blocks. */
    ConnectionMetrics metrics();

    void addListener(ConnectionListener listener);

    void removeListener(ConnectionListener listener);

    /** Releases the connection's resources for good; it says nothing to the peer. Idempotent. */
    void close();
}
