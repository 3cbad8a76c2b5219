package org.midimesh.mesh.internal;

import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.function.Consumer;

import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionListener;
import org.midimesh.api.connection.ConnectionPool;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.Handshaker;
import org.midimesh.api.connection.NetworkConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dials the known addresses and brings lost peers back. An address whose node is unknown is dialled with a probe
 * connection; when the probe's handshake names the node, the probe joins the pool, or hands its handshake to the
 * connection that node already has and is closed: one connection per node, whichever side dialled first. A known
 * node's connection that turns FAILED or DISCONNECTED keeps that state while it is redialled with {@link Backoff}, one
 * handshake per attempt; a failed probe dials again with backoff. A peer that answered "not ready" (503: it is
 * starting) is dialled again after the first delay, so that nodes started together find each other soon after they
 * are ready. Nothing is dialled or redialled once the mesh is closing.
 * <p>It is the mesh's {@link Opener}: every connection the mesh makes comes from {@link #open}, which listens to it.
 * <p>Threads: {@link #dial}, {@link #onStateChanged} and the redials run on the mesh pool ({@link MeshScheduler});
 * connection callbacks arrive on the strategy manager's event threads and are handed to the pool at once;
 * {@link #open}, {@link #discard} and {@link #forget} run on any thread. It holds no lock of its own.
 */
final class Dialler implements Opener {

    private static final Logger LOG = LoggerFactory.getLogger(Dialler.class);

    private final PeerDirectory directory;
    private final ConnectionPool pool;
    private final Opener strategies;
    private final Handshaker handshaker;
    private final MeshScheduler scheduler;
    private final Backoff backoff;
    private final NodeId self;
    private final PeerDeviceLists peerLists;
    // Told (on the pool) about every connection that enters CONNECTED, after probe adoption: the device announcer.
    private final Consumer<NetworkConnection> connected;
    // The pending redial per probed address and per known node: put on the pool, removed by forget on any thread. The
    // map publishes each future to whoever replaces or cancels it; a stale (done) one stays until replaced, harmlessly.
    private final Map<String, ScheduledFuture<?>> probeRetries = new ConcurrentHashMap<>();
    private final Map<NodeId, ScheduledFuture<?>> nodeRetries = new ConcurrentHashMap<>();
    private final ConnectionListener listener = new ConnectionListener() {
        @Override
        public void stateChanged(NetworkConnection c, ConnectionState from, ConnectionState to) {
            scheduler.execute(() -> onStateChanged(c, from, to));
        }

        @Override
        public void error(NetworkConnection c, String message) {
            LOG.debug("connection {}: {}", c.getRemoteId().map(NodeId::toString).orElse("(unknown peer)"), message);
        }
    };

    /**
     * @param strategies opens the raw connections: {@code StrategyControl.open} with the mesh's handshaker and link
     * @param handshaker does the redial handshakes
     * @param self       this node, whose own address is never kept as a peer
     * @param connected  told about each connection that enters CONNECTED (the pooled one, after a probe was adopted)
     * @param peerLists  where handshakes are applied, so that an older device list never overwrites a newer one
     */
    Dialler(PeerDirectory directory, ConnectionPool pool, Opener strategies, Handshaker handshaker,
            MeshScheduler scheduler, Backoff backoff, NodeId self, Consumer<NetworkConnection> connected,
            PeerDeviceLists peerLists) {
        this.directory = directory;
        this.pool = pool;
        this.strategies = strategies;
        this.handshaker = handshaker;
        this.scheduler = scheduler;
        this.backoff = backoff;
        this.self = self;
        this.connected = connected;
        this.peerLists = peerLists;
    }

    /**
     * The handshaker of the strategies, which apply its replies themselves: a reply comes with the newest list known
     * of the peer's devices (see {@link PeerDeviceLists#merge}); a "not ready" answer is noted in the directory, so
     * that the address is dialled again after the first backoff delay. Runs on the strategies' handshake threads.
     */
    static Handshaker forStrategies(Handshaker handshaker, PeerDeviceLists peerLists, PeerDirectory directory) {
        return (host, httpPort) -> {
            try {
                return peerLists.merge(handshaker.handshake(host, httpPort));
            } catch (PeerNotReadyException e) {
                directory.answeredNotReady(PeerDirectory.key(host, httpPort));
                throw e;
            }
        };
    }

    /** Opens a connection and listens to it, so that the dialler sees it connect, fail and disconnect. */
    @Override
    public NetworkConnection open(String host, int httpPort) {
        NetworkConnection c = strategies.open(host, httpPort);
        c.addListener(listener);
        return c;
    }

    @Override
    public void discard(NetworkConnection c) {
        c.removeListener(listener);
        c.close();
    }

    /** Dials {@code key} on the pool. Any thread. */
    void dialSoon(String key) {
        scheduler.execute(() -> dial(key));
    }

    /**
     * Connects to the address unless its connection is already connected or connecting: the pool's connection of the
     * node answering there if it has one, else the address's probe, opened now if there is none. On the pool.
     */
    void dial(String key) {
        PeerDirectory.Target target = directory.target(key).orElse(null);
        if (target == null) {
            return;
        }
        NetworkConnection toConnect = target.probe();
        if (target.nodeId() != null) {
            toConnect = pool.get(target.nodeId()).orElse(toConnect);
        }
        if (toConnect == null) {
            if (scheduler.closing()) {
                return;
            }
            NetworkConnection fresh = open(target.host(), target.port());
            toConnect = directory.offerProbe(key, fresh).orElse(null);
            if (toConnect != fresh) {
                discard(fresh); // the address was forgotten, or another dial made its probe first
            }
            if (toConnect == null) {
                return;
            }
        }
        ConnectionState s = toConnect.getState();
        if (s != ConnectionState.CONNECTED && s != ConnectionState.CONNECTING) {
            toConnect.connect();
        }
    }

    /** Reacts to a connection's state change. On the pool. */
    void onStateChanged(NetworkConnection c, ConnectionState from, ConnectionState to) {
        String who = c.getRemoteNode().map(n -> n.name() + " (" + n.id() + ")").orElse("peer");
        if (to == ConnectionState.CONNECTED) {
            LOG.info("connected to {}", who);
            adoptIfProbe(c);
            c.getRemoteId().ifPresent(id -> {
                directory.nodeConnected(id);
                pool.get(id).ifPresent(connected);
            });
        } else if (to == ConnectionState.FAILED || to == ConnectionState.DISCONNECTED) {
            if (from == ConnectionState.CONNECTED) {
                LOG.info("{} from {}", to == ConnectionState.FAILED ? "lost connection" : "disconnected", who);
            }
            scheduleRedial(c);
        }
    }

    /** A probe reached its peer, so the node is known now: keep one connection per node in the pool. */
    private void adoptIfProbe(NetworkConnection c) {
        NodeId id = c.getRemoteId().orElse(null);
        if (id == null || !directory.probeAnswered(c, id)) {
            return;
        }
        if (id.equals(self)) {
            LOG.warn("peer address {} is this node itself; ignoring it",
                    c.getRemoteNode().map(NodeInfo::address).orElse("?"));
            discard(c);
            return;
        }
        if (!pool.add(id, c)) {
            NetworkConnection existing = pool.get(id).orElse(null);
            if (existing != null && existing != c) {
                // The probe's reply may be older than what the peer's own handshakes brought meanwhile: newest wins.
                peerLists.applyNewest(existing, new Handshake(c.getRemoteNode().orElseThrow(), c.getRemoteDevices()));
            }
            discard(c);
        }
    }

    /** Schedules the next attempt for a connection that failed or disconnected, if the mesh still wants it. */
    private void scheduleRedial(NetworkConnection c) {
        if (scheduler.closing()) {
            return;
        }
        NodeId node = c.getRemoteId().orElse(null);
        if (node != null && pool.get(node).orElse(null) == c) {
            int failures = directory.nodeFailed(node);
            keep(nodeRetries, node, scheduler.schedule(() -> redial(node, c, failures),
                    backoff.delayMs(failures - 1)));
            return;
        }
        directory.probeFailed(c).ifPresent(f -> keep(probeRetries, f.key(),
                scheduler.schedule(() -> dial(f.key()), backoff.delayMs(f.failuresBefore()))));
    }

    private static <K> void keep(Map<K, ScheduledFuture<?>> retries, K key, ScheduledFuture<?> next) {
        ScheduledFuture<?> old = next == null ? retries.remove(key) : retries.put(key, next);
        if (old != null && old != next) {
            old.cancel(false);
        }
    }

    /**
     * Tries one handshake with a known peer that failed or said goodbye. The connection keeps its state (failed or
     * disconnected) while we try, so the mesh shows what happened to the peer, and turns connected when the peer
     * answers. On the pool; blocks at most the handshake timeouts.
     */
    void redial(NodeId node, NetworkConnection c, int attempt) {
        if (scheduler.closing() || pool.get(node).orElse(null) != c) {
            return;
        }
        ConnectionState state = c.getState();
        if (state == ConnectionState.CONNECTED || state == ConnectionState.CONNECTING) {
            return;
        }
        NodeInfo peer = c.getRemoteNode().orElse(null);
        if (peer == null) {
            return;
        }
        try {
            Handshake reply = handshaker.handshake(peer.address(), peer.httpPort());
            if (!reply.node().id().equals(node)) {
                LOG.warn("{}:{} is now node {}, not {}; not reconnecting there", peer.address(), peer.httpPort(),
                        reply.node().id(), node);
                return;
            }
            if (!scheduler.closing() && pool.get(node).orElse(null) == c) {
                peerLists.apply(c, reply);
            }
        } catch (IOException e) {
            LOG.debug("reconnect to {} (attempt {}) failed: {}", node, attempt, e.getMessage());
            if (e instanceof PeerNotReadyException) {
                directory.nodeConnected(node); // it is starting: the backoff starts again from the first delay
            }
            scheduleRedial(c);
        }
    }

    /**
     * Forgets {@code node}: its addresses, their probes and pending redials, and its connection (removed from the pool,
     * which disconnects and closes it). Any thread.
     *
     * @return whether anything was known of it
     */
    boolean forget(NodeId node) {
        PeerDirectory.Forgotten forgotten = directory.forget(node);
        forgotten.keys().forEach(k -> keep(probeRetries, k, null));
        keep(nodeRetries, node, null);
        forgotten.probes().forEach(this::discard);
        pool.get(node).ifPresent(c -> c.removeListener(listener));
        boolean removed = pool.remove(node);
        return removed || forgotten.known();
    }

    /** Closes every probe (the mesh is stopping and its pool has stopped). */
    void closeProbes() {
        directory.takeProbes().forEach(this::discard);
    }
}
