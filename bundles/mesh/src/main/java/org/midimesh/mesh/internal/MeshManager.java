package org.midimesh.mesh.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.LocalNode;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionPool;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.Handshaker;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.connection.PeerLink;
import org.midimesh.api.devices.DeviceListener;
import org.midimesh.api.devices.DeviceRegistry;
import org.midimesh.api.mesh.Mesh;
import org.midimesh.api.strategy.StrategyControl;
import org.midimesh.api.transport.DatagramListener;
import org.midimesh.common.ListenerRegistrations;
import org.midimesh.common.NamedThreadFactory;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mesh: the DS component that provides {@link Mesh} and wires its roles. {@link PeerDirectory} knows the peer
 * addresses; {@link Dialler} dials them, adopts probes into the pool and redials lost peers with backoff;
 * {@link HandshakeServer} answers inbound handshakes; {@link DeviceAnnouncer} tells peers about local device changes;
 * {@link PeerDatagrams} takes heartbeats and goodbyes; {@link LocalDeviceList} builds our handshake with the version
 * of our device list, and {@link PeerDeviceLists} keeps the newest list of each peer's. Every connection is made by
 * {@link StrategyControl#open}, which alone decides (and changes) which strategy runs it.
 * <p>Threads: it owns the pool {@code midimesh-mesh-<n>} (2 threads), on which every dial, redial, probe adoption and
 * device announcement runs; activation and deactivation run on SCR's thread, the {@link Mesh} methods on their
 * callers' (HTTP) threads. It holds no lock of its own.
 */
@Component(service = Mesh.class, configurationPid = MeshConfig.PID)
@Designate(ocd = MeshConfig.class)
public final class MeshManager implements Mesh {

    private static final Logger LOG = LoggerFactory.getLogger(MeshManager.class);
    private static final int THREADS = 2;

    private final ConnectionPool pool;
    private final PeerLink link;
    private final ScheduledThreadPoolExecutor executor;
    /**
     * The device announcements: a thread per peer being told (at most one announcement per peer at a time), idle
     * threads end after 30 s; so peers are told in parallel and a slow one holds only its own thread.
     */
    private final ThreadPoolExecutor announcements;
    private final MeshScheduler scheduler;
    private final PeerDirectory directory = new PeerDirectory();
    private final Dialler dialler;
    private final HandshakeServer server;
    private final DeviceAnnouncer announcer;
    private final PeerDatagrams datagrams;
    private final PeerDeviceLists peerLists = new PeerDeviceLists();
    /** The keys of the --peer addresses, dialled by dialStaticPeers. */
    private final List<String> staticPeers;
    /** Set in publishListeners and closed in deactivate, both on SCR's thread; null in unit tests. */
    private ListenerRegistrations listeners;

    @Activate
    public MeshManager(@Reference LocalNode local, @Reference ConnectionPool pool, @Reference PeerLink link,
            @Reference DeviceRegistry devices, @Reference StrategyControl strategies, MeshConfig config) {
        this.pool = pool;
        this.link = link;
        this.executor = new ScheduledThreadPoolExecutor(THREADS, new NamedThreadFactory("midimesh-mesh", true));
        executor.setRemoveOnCancelPolicy(true);
        this.scheduler = new MeshScheduler(executor);
        this.announcements = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS,
                new SynchronousQueue<>(), new NamedThreadFactory("midimesh-announce", true));
        LocalDeviceList localList = new LocalDeviceList(local, devices);
        Handshaker handshaker = new HttpHandshaker(localList::handshake,
                Duration.ofMillis(config.handshake_connect_timeout_ms()),
                Duration.ofMillis(config.handshake_timeout_ms()));
        Handshaker forStrategies = Dialler.forStrategies(handshaker, peerLists, directory);
        Duration heartbeatTimeout = Duration.ofMillis(config.timeout_ms());
        Opener byStrategies = (host, httpPort) -> strategies.open(
                new ConnectionContext(host, httpPort, forStrategies, link, heartbeatTimeout));
        this.announcer = new DeviceAnnouncer(pool, handshaker, localList, peerLists, scheduler, announcements,
                config.announce_delay_ms());
        this.dialler = new Dialler(directory, pool, byStrategies, handshaker, scheduler, Backoff.of(config),
                local.id(), announcer::connected, peerLists);
        this.server = new HandshakeServer(local, localList, peerLists, pool, directory, dialler, scheduler);
        this.datagrams = new PeerDatagrams(pool);
        // Known now, dialled once the device listener is registered (dialStaticPeers).
        List<String> keys = new ArrayList<>();
        for (PeerAddress a : parse(local.staticPeers())) {
            checkAddress(a.host(), a.port());
            keys.add(directory.add(a.host(), a.port(), PeerSource.STATIC));
        }
        this.staticPeers = List.copyOf(keys);
        LOG.info("mesh activated: node {}, {} static peer(s)", local.id(), local.staticPeers().size());
        if ("mdns".equals(local.discovery())) {
            LOG.warn("mDNS discovery is not in this version yet: peers are found only through --peer and "
                    + "POST /network/peers");
        }
    }

    private record PeerAddress(String host, int port) {
    }

    /** {@code host:port} or {@code [v6]:port}, all parsed before the first is dialled. */
    private static List<PeerAddress> parse(List<String> peers) {
        List<PeerAddress> out = new ArrayList<>();
        for (String p : peers) {
            int colon = p.lastIndexOf(':');
            out.add(new PeerAddress(p.substring(0, colon).replace("[", "").replace("]", ""),
                    Integer.parseInt(p.substring(colon + 1))));
        }
        return out;
    }

    /**
     * Publishes the datagram and device listeners once the mesh is active (DS would declare them as services of this
     * component, forming a cycle with the transport and the registry it uses; see ListenerRegistrations), then dials
     * the static peers.
     */
    @Activate
    void publishListeners(BundleContext context) {
        listeners = new ListenerRegistrations(context).register(DatagramListener.class, datagrams)
                .register(DeviceListener.class, announcer);
        dialStaticPeers();
    }

    /**
     * Dials the {@code --peer} addresses, on the pool. Only once the device listener is registered: a handshake built
     * before then could carry a device list whose next change (a driver binding on another thread while the mesh
     * activates) the announcer never heard of, so no peer would be told (issue 7). From the registration on, every
     * change is counted, and each handshake carries the list as it is when it is built.
     */
    void dialStaticPeers() {
        staticPeers.forEach(dialler::dialSoon);
    }

    /** The heartbeats and goodbyes listener, as registered. */
    DatagramListener datagramListener() {
        return datagrams;
    }

    /** The local device changes listener, as registered. */
    DeviceListener deviceListener() {
        return announcer;
    }

    /**
     * Stops taking work, says goodbye to every peer it has a connection to (in any state: on framework stop the
     * strategies may have stopped first, and a goodbye to a peer that is not listening costs one datagram), stops the
     * pool, then closes the probes and the connections. On SCR's thread; idempotent.
     */
    @Deactivate
    void deactivate() {
        scheduler.close();
        if (listeners != null) {
            listeners.close();
        }
        List<NetworkConnection> connections = new ArrayList<>(pool.all());
        int goodbyes = 0;
        for (NetworkConnection c : connections) {
            Optional<NodeInfo> peer = c.getRemoteNode();
            if (peer.isPresent()) {
                link.sendGoodbye(peer.get());
                goodbyes++;
            }
        }
        executor.shutdownNow();
        announcements.shutdownNow();
        try {
            if (!executor.awaitTermination(2, TimeUnit.SECONDS)) {
                LOG.warn("mesh threads did not stop within 2 s");
            }
            if (!announcements.awaitTermination(2, TimeUnit.SECONDS)) {
                LOG.warn("device announcement threads did not stop within 2 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        dialler.closeProbes();
        for (NetworkConnection c : connections) {
            c.getRemoteId().ifPresent(pool::remove);
        }
        LOG.info("mesh deactivated; said goodbye to {} peer(s)", goodbyes);
    }

    // ---- peers ----

    @Override
    public void addPeer(String host, int httpPort, PeerSource source) {
        checkAddress(host, httpPort);
        dialler.dialSoon(directory.add(host, httpPort, source));
    }

    private static void checkAddress(String host, int httpPort) {
        if (host == null || host.isBlank() || httpPort < 1 || httpPort > 65535) {
            throw new IllegalArgumentException("address must be host:port with a port 1..65535");
        }
    }

    @Override
    public boolean forget(NodeId peer) {
        boolean forgotten = dialler.forget(peer);
        datagrams.forget(peer);
        peerLists.forget(peer);
        if (forgotten) {
            LOG.info("forgot peer {}", peer);
        }
        return forgotten;
    }

    @Override
    public List<Peer> peers() {
        return directory.peers();
    }

    // ---- handshakes ----

    @Override
    public Handshake localHandshake() {
        return server.localHandshake();
    }

    @Override
    public Handshake acceptHandshake(Handshake peer, String remoteAddress) {
        return server.accept(peer, remoteAddress);
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
        return datagrams.roundTripMicros(peer);
    }
}
