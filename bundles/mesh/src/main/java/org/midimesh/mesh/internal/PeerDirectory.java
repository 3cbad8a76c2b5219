package org.midimesh.mesh.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.midimesh.api.NodeId;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.mesh.Mesh.Peer;
import org.midimesh.api.mesh.Mesh.PeerSource;

/**
 * The peer addresses this node knows: how each became known, which node answered there, the probe connection that
 * dials it while its node is unknown, and the failures in a row per address (probes) and per node (redials).
 * <p>Thread-safe, any thread: every field is guarded by {@link #lock}, which is held only to read or write them. The
 * directory never calls a connection or another component; callers act on what it returns after it let go.
 */
final class PeerDirectory {

    /** One known address. Guarded by {@link #lock}. */
    private static final class Entry {
        final String host;
        final int port;
        final PeerSource source;
        NodeId nodeId;
        /** Dials the address while its node is unknown; null once a handshake named the node. */
        NetworkConnection probe;
        int probeFailures;
        /** The last handshake there was answered "not ready" (503): the next probe failure counts as a first one. */
        boolean notReady;

        Entry(String host, int port, PeerSource source) {
            this.host = host;
            this.port = port;
            this.source = source;
        }
    }

    /**
     * What dialling an address needs to know.
     *
     * @param probe  the address's probe, or null when it has none
     * @param nodeId the node that answered there, or null when none has yet
     */
    record Target(String host, int port, NetworkConnection probe, NodeId nodeId) {
    }

    /**
     * A probe failed.
     *
     * @param key            the address it probes
     * @param failuresBefore the probe failures in a row at that address before this one
     */
    record ProbeFailure(String key, int failuresBefore) {
    }

    /**
     * What {@link #forget} removed.
     *
     * @param known  whether any address named the node
     * @param keys   the addresses removed
     * @param probes their probes, for the caller to close
     */
    record Forgotten(boolean known, List<String> keys, List<NetworkConnection> probes) {
    }

    private final Object lock = new Object();
    // Guarded by lock; insertion order is the order peers() lists them in.
    private final Map<String, Entry> entries = new LinkedHashMap<>();
    // Guarded by lock: failures in a row of each known node's connection, for the redial backoff.
    private final Map<NodeId, Integer> nodeFailures = new HashMap<>();

    /** The key of an address: {@code host:port}. */
    static String key(String host, int port) {
        return host + ":" + port;
    }

    /** Remembers the address unless it is known already (then its first source stays); returns its key. */
    String add(String host, int port, PeerSource source) {
        String key = key(host, port);
        synchronized (lock) {
            entries.computeIfAbsent(key, k -> new Entry(host, port, source));
        }
        return key;
    }

    /** What dialling {@code key} needs; empty when the address is no longer known. */
    Optional<Target> target(String key) {
        synchronized (lock) {
            Entry e = entries.get(key);
            return e == null ? Optional.empty() : Optional.of(new Target(e.host, e.port, e.probe, e.nodeId));
        }
    }

    /**
     * Makes {@code fresh} the probe of {@code key} unless it has one already. Returns the probe it has now
     * ({@code fresh} or the earlier one); empty when the address is no longer known. The caller closes {@code fresh}
     * if it is not returned.
     */
    Optional<NetworkConnection> offerProbe(String key, NetworkConnection fresh) {
        synchronized (lock) {
            Entry e = entries.get(key);
            if (e == null) {
                return Optional.empty();
            }
            if (e.probe == null) {
                e.probe = fresh;
            }
            return Optional.of(e.probe);
        }
    }

    /**
     * A handshake on {@code c} named {@code node}. If {@code c} probes an address, that address now belongs to
     * {@code node}, has no probe and no failures: returns true, and the caller decides where {@code c} goes.
     */
    boolean probeAnswered(NetworkConnection c, NodeId node) {
        boolean wasProbe = false;
        synchronized (lock) {
            for (Entry e : entries.values()) {
                if (e.probe == c) {
                    e.probe = null;
                    e.nodeId = node;
                    e.probeFailures = 0;
                    e.notReady = false;
                    wasProbe = true;
                }
            }
        }
        return wasProbe;
    }

    /**
     * Counts a failure of the probe {@code c}; empty when {@code c} probes no address (any more). After a "not ready"
     * answer ({@link #answeredNotReady}) the count starts again: the node there is starting and answers soon.
     */
    Optional<ProbeFailure> probeFailed(NetworkConnection c) {
        synchronized (lock) {
            for (Map.Entry<String, Entry> me : entries.entrySet()) {
                Entry e = me.getValue();
                if (e.probe == c) {
                    if (e.notReady) {
                        e.notReady = false;
                        e.probeFailures = 0;
                    }
                    return Optional.of(new ProbeFailure(me.getKey(), e.probeFailures++));
                }
            }
        }
        return Optional.empty();
    }

    /** A handshake with the address {@code key} was answered "not ready" (503); nothing when it is not known. */
    void answeredNotReady(String key) {
        synchronized (lock) {
            Entry e = entries.get(key);
            if (e != null) {
                e.notReady = true;
            }
        }
    }

    /** Counts a failure of {@code node}'s connection; returns its failures in a row, this one included. */
    int nodeFailed(NodeId node) {
        synchronized (lock) {
            return nodeFailures.merge(node, 1, Integer::sum);
        }
    }

    /** {@code node}'s connection is connected: its failures in a row start again from zero. */
    void nodeConnected(NodeId node) {
        synchronized (lock) {
            nodeFailures.remove(node);
        }
    }

    /**
     * {@code node} handshook with us from {@code host}, answering on {@code port}: remembered as an inbound peer at
     * that address, unless some known address names it already.
     */
    void inbound(NodeId node, String host, int port) {
        synchronized (lock) {
            for (Entry e : entries.values()) {
                if (node.equals(e.nodeId)) {
                    return;
                }
            }
            entries.computeIfAbsent(key(host, port), k -> new Entry(host, port, PeerSource.INBOUND)).nodeId = node;
        }
    }

    /** Removes every address that names {@code node}, and its failure count. */
    Forgotten forget(NodeId node) {
        List<String> keys = new ArrayList<>();
        List<NetworkConnection> probes = new ArrayList<>();
        synchronized (lock) {
            for (Iterator<Map.Entry<String, Entry>> it = entries.entrySet().iterator(); it.hasNext();) {
                Map.Entry<String, Entry> e = it.next();
                if (node.equals(e.getValue().nodeId)) {
                    keys.add(e.getKey());
                    if (e.getValue().probe != null) {
                        probes.add(e.getValue().probe);
                    }
                    it.remove();
                }
            }
            nodeFailures.remove(node);
        }
        return new Forgotten(!keys.isEmpty(), List.copyOf(keys), List.copyOf(probes));
    }

    /** Takes every probe away (the mesh is stopping); the caller closes them. */
    List<NetworkConnection> takeProbes() {
        List<NetworkConnection> probes = new ArrayList<>();
        synchronized (lock) {
            for (Entry e : entries.values()) {
                if (e.probe != null) {
                    probes.add(e.probe);
                    e.probe = null;
                }
            }
        }
        return probes;
    }

    /** The known addresses, in the order they became known: an immutable snapshot. */
    List<Peer> peers() {
        List<Peer> out = new ArrayList<>();
        synchronized (lock) {
            for (Entry e : entries.values()) {
                out.add(new Peer(e.host, e.port, e.source, Optional.ofNullable(e.nodeId)));
            }
        }
        return Collections.unmodifiableList(out);
    }
}
