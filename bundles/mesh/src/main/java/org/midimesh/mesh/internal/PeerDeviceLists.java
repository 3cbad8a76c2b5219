package org.midimesh.mesh.internal;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.NodeId;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.Handshake.DevicesVersion;
import org.midimesh.api.connection.NetworkConnection;

/**
 * The newest device list known of each peer, by the version its handshakes carry, so that an older list never
 * overwrites a newer one. A peer's handshakes come on several exchanges at once (its dial and ours, its announcements
 * and our announcements' replies, redials) and may be applied in any order; each is applied through here, which
 * gives the connection the newest list known instead of an older one. A handshake without a version (a peer from
 * before versions) is taken as the newest, as it always was.
 * <p>Thread-safe, any thread: {@link #lock} guards the table and is held only to read or write it; connections are
 * called after it was let go.
 */
final class PeerDeviceLists {

    private record Newest(DevicesVersion version, List<DeviceInfo> devices) {
    }

    private final Object lock = new Object();
    // Guarded by lock: per peer node, the newest versioned list seen.
    private final Map<NodeId, Newest> newest = new HashMap<>();

    /**
     * Takes in a handshake that arrived: returns it when its list is the newest known of its node (or it has no
     * version), else the same node with the newest list known.
     */
    Handshake merge(Handshake received) {
        NodeId id = received.node().id();
        DevicesVersion v = received.devicesVersion().orElse(null);
        synchronized (lock) {
            if (v == null) {
                newest.remove(id); // an unversioned peer: its every list is the newest
                return received;
            }
            Newest known = newest.get(id);
            if (known == null || v.replaces(known.version())) {
                newest.put(id, new Newest(v, received.devices()));
                return received;
            }
            return new Handshake(received.node(), known.devices(), Optional.of(known.version()));
        }
    }

    /**
     * Applies a handshake that arrived to {@code c}, the connection of its node, with the newest list known (see
     * {@link #merge}). A newer list taken in by another thread meanwhile is applied too, after this one: so whatever
     * order the threads apply theirs in, the connection ends with the newest.
     */
    void apply(NetworkConnection c, Handshake received) {
        completeWithNewest(c, merge(received));
    }

    /**
     * Applies {@code node}'s newest known list to {@code c}; {@code fallback} (a probe's handshake, whose version was
     * taken in when the probe connected) when none is known.
     */
    void applyNewest(NetworkConnection c, Handshake fallback) {
        completeWithNewest(c, newerThan(fallback).orElse(fallback));
    }

    private void completeWithNewest(NetworkConnection c, Handshake h) {
        Handshake next = h;
        do {
            c.handshakeCompleted(next);
            next = newerThan(next).orElse(null);
        } while (next != null);
    }

    /** The newest list known of {@code h}'s node, with {@code h}'s node, when it is not the list of {@code h}. */
    private Optional<Handshake> newerThan(Handshake h) {
        synchronized (lock) {
            Newest known = newest.get(h.node().id());
            if (known == null || h.devicesVersion().map(known.version()::equals).orElse(false)) {
                return Optional.empty();
            }
            if (h.devicesVersion().isPresent() && !known.version().replaces(h.devicesVersion().get())) {
                return Optional.empty();
            }
            return Optional.of(new Handshake(h.node(), known.devices(), Optional.of(known.version())));
        }
    }

    /** Forgets what is known of {@code node} (the mesh forgot it). */
    void forget(NodeId node) {
        synchronized (lock) {
            newest.remove(node);
        }
    }
}
