package org.midimesh.mesh.internal;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.midimesh.common.ListenerRegistrations;
import org.midimesh.common.NamedThreadFactory;
import org.midimesh.api.DeviceInfo;
import org.midimesh.api.LocalNode;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionListener;
import org.midimesh.api.connection.ConnectionPool;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.ConnectionStrategy;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.Handshaker;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.connection.PeerLink;
import org.midimesh.api.devices.DeviceListener;
import org.midimesh.api.devices.DeviceRegistry;
import org.midimesh.api.devices.LocalDevice;
import org.midimesh.api.mesh.Mesh;
import org.midimesh.api.transport.DatagramListener;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mesh manager: knows the peer addresses (static, inbound, added through the API), holds one logical connection per
 * peer node in the pool, dials and re-dials with backoff, answers inbound handshakes, passes heartbeats and goodbyes to
 * the connections, and tells peers when the local devices change.
 * <p>Threads: all mesh decisions run on its own scheduler {@code midimesh-mesh-<n>} (2 threads; blocking handshakes
 * for device announcements run there too). Connection callbacks arrive on the strategy's notification thread and are
 * handed to the scheduler at once. {@link #acceptHandshake} runs on HTTP threads, the datagram callbacks on the UDP
 * receive thread; they only touch the pool and the connection, which are thread-safe. The {@code peers} map is guarded
 * by its own monitor, which is never held while calling another component.
 */
@Component(service = Mesh.class, configurationPid = MeshConfig.PID)
@Designate(ocd = MeshConfig.class)
public final class MeshManager implements Mesh, DatagramListener, DeviceListener {

    private static final Logger LOG = LoggerFactory.getLogger(MeshManager.class);

    /** A peer address and what the mesh knows of it. Fields guarded by the {@code peers} monitor. */
    private static final class PeerEntry {
        final String host;
        final int port;
        final PeerSource source;
        NodeId nodeId;
        /** Dials an address whose node is not yet known; dropped once the handshake told us who is there. */
        NetworkConnection probe;
        int failures;
        ScheduledFuture<?> retry;

        PeerEntry(String host, int port, PeerSource source) {
            this.host = host;
            this.port = port;
            this.source = source;
        }
    }

    private final LocalNode local;
    private final ConnectionPool pool;
    private final PeerLink link;
    private final DeviceRegistry devices;
    private final MeshConfig config;
    private final Handshaker handshaker;
    private final ScheduledExecutorService scheduler;
    private final Map<String, PeerEntry> peers = new LinkedHashMap<>();
    /** Failures in a row per known peer node, for the reconnect backoff; touched on the scheduler only. */
    private final Map<NodeId, Integer> nodeFailures = new ConcurrentHashMap<>();
    private final Map<NodeId, ScheduledFuture<?>> nodeRetries = new ConcurrentHashMap<>();
    /** Last heartbeat round trip per peer: written by the UDP thread, read by HTTP threads (CHM gives visibility). */
    private final Map<NodeId, Long> roundTrips = new ConcurrentHashMap<>();
    private final Map<String, ConnectionStrategy> strategies = new ConcurrentHashMap<>();
    private final ConnectionListener listener = new ConnectionListener() {
        @Override
        public void stateChanged(NetworkConnection c, ConnectionState from, ConnectionState to) {
            submit(() -> onStateChanged(c, from, to));
        }

        @Override
        public void error(NetworkConnection c, String message) {
            LOG.debug("connection {}: {}", c.getRemoteId().map(NodeId::toString).orElse("(unknown peer)"), message);
        }
    };
    /** System.nanoTime() at construction; final, so safely published with the component. */
    private final long activatedAt = System.nanoTime();
    /** Warn once about a missing default strategy; only compareAndSet from false to true. */
    private final java.util.concurrent.atomic.AtomicBoolean warnedFallback =
            new java.util.concurrent.atomic.AtomicBoolean();
    /** Set once in deactivate; read by every thread that may schedule work afterwards. */
    private volatile boolean closing;
    private ScheduledFuture<?> pendingAnnounce;
    /** Set in publishListeners and closed in deactivate, both on SCR's thread; null in unit tests. */
    private ListenerRegistrations listeners;

    @Activate
    public MeshManager(@Reference LocalNode local, @Reference ConnectionPool pool, @Reference PeerLink link,
            @Reference DeviceRegistry devices, MeshConfig config) {
        this.local = local;
        this.pool = pool;
        this.link = link;
        this.devices = devices;
        this.config = config;
        this.handshaker = new HttpHandshaker(this::localHandshake, Duration.ofMillis(config.handshake_connect_timeout_ms()),
                Duration.ofMillis(config.handshake_timeout_ms()));
        ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(2,
                new NamedThreadFactory("midimesh-mesh", true));
        s.setRemoveOnCancelPolicy(true);
        this.scheduler = s;
        for (String p : local.staticPeers()) {
            int colon = p.lastIndexOf(':');
            String host = p.substring(0, colon).replace("[", "").replace("]", "");
            addPeer(host, Integer.parseInt(p.substring(colon + 1)), PeerSource.STATIC);
        }
        LOG.info("mesh activated: node {}, {} static peer(s), default strategy {}", local.id(),
                local.staticPeers().size(), local.defaultStrategy());
        // If the default strategy never binds, dial with the fallback once the grace time is over.
        schedule(this::dialAll, config.strategy_grace_ms() + 50, f -> {
        });
        if ("mdns".equals(local.discovery())) {
            LOG.warn("mDNS discovery is not in this version yet: peers are found only through --peer and "
                    + "POST /network/peers");
        }
    }

    /**
     * Publishes the mesh as a datagram and device listener once it is active (DS would declare them as services of
     * this component, forming a cycle with the transport and the registry it uses; see ListenerRegistrations).
     */
    @Activate
    void publishListeners(BundleContext context) {
        listeners = new ListenerRegistrations(context).register(DatagramListener.class, this)
                .register(DeviceListener.class, this);
    }

    @Reference(service = ConnectionStrategy.class, cardinality = ReferenceCardinality.AT_LEAST_ONE,
            policy = ReferencePolicy.DYNAMIC)
    void bindStrategy(ConnectionStrategy s, Map<String, Object> props) {
        strategies.put(s.name(), s);
        // SCR binds dynamic references after the constructor ran: peers added before now wait for a strategy.
        submit(this::dialAll);
    }

    /** Dials every known address that has no connection yet. On the scheduler. */
    private void dialAll() {
        List<String> keys;
        synchronized (peers) {
            keys = new ArrayList<>(peers.keySet());
        }
        keys.forEach(this::dial);
    }

    void unbindStrategy(ConnectionStrategy s, Map<String, Object> props) {
        strategies.remove(s.name(), s);
    }

    /**
     * The default strategy if it is there, else (once the grace time after activation is over, or when
     * {@code fallbackNow}) mutex, else any; null when none may be used yet. Strategies bind in no particular order:
     * the grace time keeps the first dials from using whichever strategy happened to bind first.
     */
    private ConnectionStrategy strategyOrNull(boolean fallbackNow) {
        ConnectionStrategy s = strategies.get(local.defaultStrategy());
        if (s != null) {
            return s;
        }
        if (!fallbackNow && System.nanoTime() - activatedAt < TimeUnit.MILLISECONDS.toNanos(config.strategy_grace_ms())) {
            return null;
        }
        s = strategies.get("mutex");
        if (s == null && !strategies.isEmpty()) {
            s = strategies.values().iterator().next();
        }
        return s;
    }

    private ConnectionStrategy strategyOrNull() {
        return strategyOrNull(false);
    }

    private ConnectionStrategy strategy(boolean fallbackNow) {
        ConnectionStrategy s = strategyOrNull(fallbackNow);
        if (s == null) {
            throw new IllegalStateException("no connection strategy is available");
        }
        return s;
    }

    private NetworkConnection newConnection(String host, int httpPort, boolean fallbackNow) {
        ConnectionStrategy strategy = strategy(fallbackNow);
        if (!strategy.name().equals(local.defaultStrategy()) && warnedFallback.compareAndSet(false, true)) {
            LOG.warn("default strategy {} is not available; new connections use {}", local.defaultStrategy(),
                    strategy.name());
        }
        NetworkConnection c = strategy.create(new ConnectionContext(host, httpPort, handshaker, link,
                Duration.ofMillis(config.timeout_ms())));
        c.addListener(listener);
        return c;
    }

    @Deactivate
    void deactivate() {
        closing = true;
        if (listeners != null) {
            listeners.close();
        }
        List<NetworkConnection> connections = new ArrayList<>(pool.all());
        int goodbyes = 0;
        for (NetworkConnection c : connections) {
            // Whatever the state: when the framework stops, a strategy bundle may have closed its connections before
            // the mesh gets here, and a goodbye to a peer that is not listening costs one datagram.
            Optional<NodeInfo> peer = c.getRemoteNode();
            if (peer.isPresent()) {
                link.sendGoodbye(peer.get());
                goodbyes++;
            }
        }
        List<NetworkConnection> probes = new ArrayList<>();
        synchronized (peers) {
            for (PeerEntry e : peers.values()) {
                if (e.probe != null) {
                    probes.add(e.probe);
                    e.probe = null;
                }
            }
        }
        scheduler.shutdownNow();
        probes.forEach(NetworkConnection::close);
        for (NetworkConnection c : connections) {
            c.getRemoteId().ifPresent(pool::remove);
        }
        try {
            if (!scheduler.awaitTermination(2, TimeUnit.SECONDS)) {
                LOG.warn("mesh threads did not stop within 2 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.info("mesh deactivated; said goodbye to {} peer(s)", goodbyes);
    }

    private void submit(Runnable task) {
        if (closing) {
            return;
        }
        try {
            scheduler.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.error("mesh task failed", e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.debug("mesh is stopping; task dropped");
        }
    }

    private void schedule(Runnable task, long delayMs, java.util.function.Consumer<ScheduledFuture<?>> keep) {
        if (closing) {
            return;
        }
        try {
            keep.accept(scheduler.schedule(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.error("mesh task failed", e);
                }
            }, delayMs, TimeUnit.MILLISECONDS));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.debug("mesh is stopping; task dropped");
        }
    }

    private long backoff(int failures) {
        long d = config.reconnect_initial_ms() << Math.min(failures, 16);
        return Math.min(d, config.reconnect_max_ms());
    }

    // ---- peers ----

    @Override
    public void addPeer(String host, int httpPort, PeerSource source) {
        if (host == null || host.isBlank() || httpPort < 1 || httpPort > 65535) {
            throw new IllegalArgumentException("address must be host:port with a port 1..65535");
        }
        String key = host + ":" + httpPort;
        boolean added;
        synchronized (peers) {
            added = !peers.containsKey(key);
            if (added) {
                peers.put(key, new PeerEntry(host, httpPort, source));
            }
        }
        submit(() -> dial(key));
    }

    /** Connects to the address unless it is already connected or connecting. On the scheduler. */
    private void dial(String key) {
        NetworkConnection toConnect;
        String host;
        int port;
        NodeId nodeId;
        synchronized (peers) {
            PeerEntry e = peers.get(key);
            if (e == null) {
                return;
            }
            toConnect = e.probe;
            host = e.host;
            port = e.port;
            nodeId = e.nodeId;
        }
        if (nodeId != null) {
            NetworkConnection known = pool.get(nodeId).orElse(null);
            if (known != null) {
                toConnect = known;
            }
        }
        if (toConnect == null) {
            if (strategyOrNull() == null) {
                LOG.debug("no connection strategy yet; {} is dialled once one is bound", key);
                return;
            }
            NetworkConnection fresh = newConnection(host, port, false);
            synchronized (peers) {
                PeerEntry e = peers.get(key);
                if (e != null && e.probe == null) {
                    e.probe = fresh;
                }
                toConnect = e == null ? null : e.probe;
            }
            if (toConnect != fresh) {
                fresh.removeListener(listener);
                fresh.close();
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

    /** Reacts to a connection's state change. On the scheduler. */
    private void onStateChanged(NetworkConnection c, ConnectionState from, ConnectionState to) {
        String who = c.getRemoteNode().map(n -> n.name() + " (" + n.id() + ")").orElse("peer");
        if (to == ConnectionState.CONNECTED) {
            LOG.info("connected to {}", who);
            adoptIfProbe(c);
            c.getRemoteId().ifPresent(nodeFailures::remove);
        } else if (to == ConnectionState.FAILED || to == ConnectionState.DISCONNECTED) {
            if (from == ConnectionState.CONNECTED) {
                LOG.info("{} from {}", to == ConnectionState.FAILED ? "lost connection" : "disconnected", who);
            }
            scheduleReconnect(c);
        }
    }

    /** A probe reached its peer: the node is now known; keep one connection per node in the pool. */
    private void adoptIfProbe(NetworkConnection c) {
        Optional<NodeId> id = c.getRemoteId();
        if (id.isEmpty()) {
            return;
        }
        boolean wasProbe = false;
        synchronized (peers) {
            for (PeerEntry e : peers.values()) {
                if (e.probe == c) {
                    e.probe = null;
                    e.nodeId = id.get();
                    e.failures = 0;
                    wasProbe = true;
                }
            }
        }
        if (!wasProbe) {
            return;
        }
        if (id.get().equals(local.id())) {
            LOG.warn("peer address {} is this node itself; ignoring it", c.getRemoteNode().map(NodeInfo::address));
            c.close();
            return;
        }
        if (!pool.add(id.get(), c)) {
            NetworkConnection existing = pool.get(id.get()).orElse(null);
            if (existing != null && existing != c) {
                existing.handshakeCompleted(new Handshake(c.getRemoteNode().orElseThrow(), c.getRemoteDevices()));
            }
            c.removeListener(listener);
            c.close();
        }
    }

    private void scheduleReconnect(NetworkConnection c) {
        if (closing) {
            return;
        }
        Optional<NodeId> id = c.getRemoteId();
        if (id.isPresent() && pool.get(id.get()).orElse(null) == c) {
            NodeId node = id.get();
            int failures = nodeFailures.merge(node, 1, Integer::sum);
            long delay = backoff(failures - 1);
            ScheduledFuture<?> old = nodeRetries.remove(node);
            if (old != null) {
                old.cancel(false);
            }
            schedule(() -> {
                nodeRetries.remove(node);
                redial(node, c, failures);
            }, delay, f -> nodeRetries.put(node, f));
            return;
        }
        String key = null;
        long delay = 0;
        synchronized (peers) {
            for (Map.Entry<String, PeerEntry> e : peers.entrySet()) {
                if (e.getValue().probe == c) {
                    key = e.getKey();
                    PeerEntry pe = e.getValue();
                    delay = backoff(pe.failures++);
                    if (pe.retry != null) {
                        pe.retry.cancel(false);
                    }
                }
            }
        }
        if (key != null) {
            String k = key;
            schedule(() -> dial(k), delay, f -> {
                synchronized (peers) {
                    PeerEntry pe = peers.get(k);
                    if (pe != null) {
                        pe.retry = f;
                    }
                }
            });
        }
    }

    /**
     * Tries one handshake with a known peer that failed or said goodbye. The connection keeps its state (failed or
     * disconnected) while we try, so the mesh shows what happened to the peer, and turns connected when the peer
     * answers. On the scheduler; blocks at most the handshake timeouts.
     */
    private void redial(NodeId node, NetworkConnection c, int attempt) {
        if (closing || pool.get(node).orElse(null) != c) {
            return;
        }
        ConnectionState state = c.getState();
        if (state == ConnectionState.CONNECTED || state == ConnectionState.CONNECTING) {
            return;
        }
        Optional<NodeInfo> peer = c.getRemoteNode();
        if (peer.isEmpty()) {
            return;
        }
        try {
            Handshake reply = handshaker.handshake(peer.get().address(), peer.get().httpPort());
            if (!reply.node().id().equals(node)) {
                LOG.warn("{}:{} is now node {}, not {}; not reconnecting there", peer.get().address(),
                        peer.get().httpPort(), reply.node().id(), node);
                return;
            }
            if (!closing && pool.get(node).orElse(null) == c) {
                c.handshakeCompleted(reply);
            }
        } catch (java.io.IOException e) {
            LOG.debug("reconnect to {} (attempt {}) failed: {}", node, attempt, e.getMessage());
            scheduleReconnect(c);
        }
    }

    @Override
    public boolean forget(NodeId peer) {
        List<NetworkConnection> probes = new ArrayList<>();
        boolean known;
        synchronized (peers) {
            known = false;
            for (var it = peers.values().iterator(); it.hasNext();) {
                PeerEntry e = it.next();
                if (peer.equals(e.nodeId)) {
                    known = true;
                    if (e.retry != null) {
                        e.retry.cancel(false);
                    }
                    if (e.probe != null) {
                        probes.add(e.probe);
                    }
                    it.remove();
                }
            }
        }
        ScheduledFuture<?> retry = nodeRetries.remove(peer);
        if (retry != null) {
            retry.cancel(false);
        }
        nodeFailures.remove(peer);
        roundTrips.remove(peer);
        probes.forEach(NetworkConnection::close);
        Optional<NetworkConnection> c = pool.get(peer);
        c.ifPresent(conn -> conn.removeListener(listener));
        boolean removed = pool.remove(peer);
        if (removed || known) {
            LOG.info("forgot peer {}", peer);
        }
        return removed || known;
    }

    @Override
    public List<Peer> peers() {
        List<Peer> out = new ArrayList<>();
        synchronized (peers) {
            for (PeerEntry e : peers.values()) {
                out.add(new Peer(e.host, e.port, e.source, Optional.ofNullable(e.nodeId)));
            }
        }
        return Collections.unmodifiableList(out);
    }

    // ---- handshakes ----

    @Override
    public Handshake localHandshake() {
        String bind = local.bindAddress();
        String address = "0.0.0.0".equals(bind) || "::".equals(bind) ? local.hostname() : bind;
        List<DeviceInfo> list = new ArrayList<>();
        for (LocalDevice d : devices.devices()) {
            list.add(d.toInfo());
        }
        return new Handshake(local.toNodeInfo(address), list);
    }

    @Override
    public Handshake acceptHandshake(Handshake peer, String remoteAddress) {
        NodeId id = peer.node().id();
        if (id.equals(local.id())) {
            throw new IllegalArgumentException("node_id: that is this node's own id");
        }
        if (closing) {
            throw new IllegalStateException("the node is stopping");
        }
        NodeInfo node = peer.node().withAddress(remoteAddress);
        NetworkConnection c = pool.get(id).orElse(null);
        if (c == null) {
            // A peer that calls during the grace time still gets an answer, with whatever strategy is there.
            NetworkConnection fresh = newConnection(remoteAddress, node.httpPort(), true);
            if (pool.add(id, fresh)) {
                c = fresh;
            } else {
                fresh.removeListener(listener);
                fresh.close();
                c = pool.get(id).orElseThrow(() -> new IllegalStateException("connection vanished"));
            }
        }
        c.handshakeCompleted(new Handshake(node, peer.devices()));
        synchronized (peers) {
            boolean known = peers.values().stream().anyMatch(e -> id.equals(e.nodeId));
            if (!known) {
                String key = remoteAddress + ":" + node.httpPort();
                PeerEntry e = peers.get(key);
                if (e == null) {
                    e = new PeerEntry(remoteAddress, node.httpPort(), PeerSource.INBOUND);
                    peers.put(key, e);
                }
                e.nodeId = id;
            }
        }
        return localHandshake();
    }

    // ---- queries ----

    @Override
    public List<NetworkConnection> connections() {
        return List.copyOf(pool.all());
    }

    @Override
    public Optional<NetworkConnection> connection(NodeId peer) {
        return pool.get(peer);
    }

    @Override
    public List<RemoteDevice> remoteDevices() {
        List<RemoteDevice> out = new ArrayList<>();
        for (NetworkConnection c : pool.all()) {
            if (c.getState() != ConnectionState.CONNECTED) {
                continue;
            }
            Optional<NodeInfo> node = c.getRemoteNode();
            if (node.isEmpty()) {
                continue;
            }
            for (DeviceInfo d : c.getRemoteDevices()) {
                out.add(new RemoteDevice(node.get().id(), node.get().name(), d));
            }
        }
        return Collections.unmodifiableList(out);
    }

    @Override
    public OptionalLong roundTripMicros(NodeId peer) {
        Long rtt = roundTrips.get(peer);
        return rtt == null ? OptionalLong.empty() : OptionalLong.of(rtt);
    }

    // ---- datagrams (UDP receive thread) ----

    @Override
    public void heartbeatReceived(NodeId sender, InetSocketAddress from, long roundTripMicros) {
        pool.get(sender).ifPresent(NetworkConnection::notifyHeartbeat);
        if (roundTripMicros >= 0) {
            roundTrips.put(sender, roundTripMicros);
        }
    }

    @Override
    public void goodbyeReceived(NodeId sender) {
        pool.get(sender).ifPresent(NetworkConnection::goodbyeReceived);
    }

    // ---- local devices ----

    @Override
    public void devicesChanged(List<LocalDevice> now) {
        synchronized (peers) {
            if (pendingAnnounce != null) {
                pendingAnnounce.cancel(false);
            }
        }
        schedule(this::announceDevices, config.announce_delay_ms(), f -> {
            synchronized (peers) {
                pendingAnnounce = f;
            }
        });
    }

    /** Sends our handshake (with the new device list) to every connected peer. On the scheduler. */
    private void announceDevices() {
        for (NetworkConnection c : pool.all()) {
            if (c.getState() != ConnectionState.CONNECTED || c.getRemoteNode().isEmpty()) {
                continue;
            }
            NodeInfo n = c.getRemoteNode().get();
            try {
                c.handshakeCompleted(handshaker.handshake(n.address(), n.httpPort()));
            } catch (java.io.IOException e) {
                LOG.warn("could not tell {} about our devices: {}", n.name(), e.getMessage());
            }
        }
    }
}
