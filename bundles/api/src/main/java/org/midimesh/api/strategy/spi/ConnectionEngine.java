package org.midimesh.api.strategy.spi;

import java.util.List;
import java.util.Optional;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.transport.DataFrame;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * The work of one {@link NetworkConnection}, done with one strategy's concurrency design. Made by a
 * {@link ConnectionStrategy}; only the strategy manager calls it, through the stable connection.
 * <p>Threading: every method is thread-safe; commands return at once and take effect asynchronously, in the order one
 * thread issued them; queries never block on the network. Events go to the engine's {@link EngineEvents} as that
 * interface states. Between {@link #beginHandover()} and {@link #completeHandover()} (or {@link #abortHandover()})
 * the manager calls nothing but queries and {@link #metrics()}, and after {@link #completeHandover()} nothing but
 * queries (which answer with the state handed over); an engine may throw {@link IllegalStateException} for a command
 * in either phase, to make such a bug loud. After {@link #close()} queries answer with the last state and commands
 * are ignored ({@link #send} returns false).
 * <p>The methods mean what the {@link NetworkConnection} methods of the same name mean.
 */
@ConsumerType
public interface ConnectionEngine {

    /** Starts the outbound handshake unless already connecting or connected. */
    void connect();

    /** Drops the connection: DISCONNECTED, no more datagrams are sent. */
    void disconnect();

    /** The peer completed a handshake with us, or answered ours: record it, refresh the heartbeat time, CONNECTED. */
    void handshakeCompleted(Handshake peer);

    /** The peer said goodbye: enter DISCONNECTED without sending anything. */
    void goodbyeReceived();

    /** A heartbeat arrived from the peer. */
    void notifyHeartbeat();

    /** A CONNECTED connection whose peer is silent beyond the timeout becomes FAILED. */
    void checkHeartbeat();

    /**
     * Sends MIDI to the peer when CONNECTED.
     *
     * @return false when not connected or refused (counted as dropped)
     */
    boolean send(DataFrame frame);

    ConnectionState getState();

    Optional<NodeId> getRemoteId();

    Optional<NodeInfo> getRemoteNode();

    /** An immutable snapshot, never a half-written list. */
    List<DeviceInfo> getRemoteDevices();

    /** Milliseconds since the last heartbeat (or handshake); {@code Long.MAX_VALUE} if never. */
    long getTimeSinceLastHeartbeat();

    /** This engine's counters now. Never blocks. */
    ConnectionMetrics metrics();

    /**
     * First half of a move to another strategy. The manager calls it only once no command is running in this engine
     * and holds back every later one. The engine runs what it had accepted (MIDI it has not sent yet may instead go
     * into {@link Handover#queuedFrames()}), abandons or bounds a handshake in flight (a successor given CONNECTING
     * runs its own), delivers every event raised so far (bounded by its own timeouts), then stops: a late result of its
     * own threads changes nothing and raises no event.
     *
     * @return the state the successor continues from
     * @throws IllegalStateException when closed, already handing over, or when it cannot stop within its bound; then
     *                               nothing changed and the engine goes on as before
     */
    Handover beginHandover();

    /** The successor has taken over: release every resource and fold the counters into the strategy's totals. */
    void completeHandover();

    /**
     * Instead of {@link #completeHandover()}, when no successor could be made: go on as if the handover never began;
     * frames held for the successor are sent, an abandoned handshake is dialled again. A later
     * {@link #beginHandover()} may try again.
     *
     * @throws IllegalStateException when no handover has begun
     */
    void abortHandover();

    /** Releases the engine's resources for good (DISCONNECTED, one event if it was not); says nothing to the peer. */
    void close();
}
