package org.midimesh.mesh.internal;

import java.io.IOException;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicReference;

import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionPool;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshaker;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.devices.DeviceListener;
import org.midimesh.api.devices.LocalDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the peers when the local devices change: {@code delayMs} after the last change, every connected peer gets a
 * fresh handshake (carrying the device list as it is when it is sent). Each peer's announcement is its own task on the
 * announcement threads ({@code midimesh-announce-<n>}, one per peer being told, so peers are told in parallel): a slow
 * or unreachable peer holds its own thread only and delays nobody else; a peer gets at most one announcement at a time,
 * and a change during one is sent once more after it. A peer whose connection enters CONNECTED is told too when the
 * devices changed since it was last told: its handshake may have been built before the change, whose announcement then
 * found it not yet connected (the "connected with 0 devices for good" race of two nodes starting together). Every
 * reply is applied through {@link PeerDeviceLists}, so a reply carrying an older list of the peer's devices than one
 * its own announcement brought meanwhile does not overwrite it.
 * <p>Threads: {@link #devicesChanged} runs on the device registry's callers (HTTP or driver threads) and only
 * schedules; the delay runs on the mesh pool, the handshakes on the announcement threads. {@link #lock} guards only
 * the bookkeeping of who is being told.
 */
final class DeviceAnnouncer implements DeviceListener {

    private static final Logger LOG = LoggerFactory.getLogger(DeviceAnnouncer.class);

    private final ConnectionPool pool;
    private final Handshaker handshaker;
    private final LocalDeviceList localList;
    private final PeerDeviceLists peerLists;
    private final MeshScheduler scheduler;
    /** Runs each peer's announcement: owned by the mesh manager, which stops it after closing the scheduler. */
    private final Executor tellers;
    private final long delayMs;
    // The announcement waiting for its delay: swapped in by devicesChanged (any thread), which cancels the one it
    // replaced; so of changes close together only the last one's announcement survives. Publishes only the future.
    private final AtomicReference<ScheduledFuture<?>> pending = new AtomicReference<>();
    private final Object lock = new Object();
    // Guarded by lock: connections whose announcement task is queued or running, and those of them to be told again.
    private final Set<NetworkConnection> telling = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Set<NetworkConnection> again = Collections.newSetFromMap(new IdentityHashMap<>());
    // Guarded by lock: per peer node, the local list version read before the last handshake that reached it.
    private final Map<NodeId, Long> told = new HashMap<>();

    /**
     * @param localList counts the local device changes (the version our handshakes carry)
     * @param peerLists where the peers' replies are applied, newest list first
     * @param delayMs   how long after the last change the peers are told
     */
    DeviceAnnouncer(ConnectionPool pool, Handshaker handshaker, LocalDeviceList localList, PeerDeviceLists peerLists,
            MeshScheduler scheduler, Executor tellers, long delayMs) {
        this.pool = pool;
        this.tellers = tellers;
        this.handshaker = handshaker;
        this.localList = localList;
        this.peerLists = peerLists;
        this.scheduler = scheduler;
        this.delayMs = delayMs;
    }

    @Override
    public void devicesChanged(List<LocalDevice> now) {
        localList.changed();
        ScheduledFuture<?> replaced = pending.getAndSet(scheduler.schedule(this::announce, delayMs));
        if (replaced != null) {
            replaced.cancel(false);
        }
    }

    /** Starts one announcement per connected peer. On the pool. */
    void announce() {
        for (NetworkConnection c : pool.all()) {
            if (c.getState() == ConnectionState.CONNECTED && c.getRemoteNode().isPresent()) {
                announceTo(c);
            }
        }
    }

    /** A connection entered CONNECTED (on the pool): tell its peer if our devices changed since it was last told. */
    void connected(NetworkConnection c) {
        NodeId id = c.getRemoteId().orElse(null);
        long version = localList.version();
        if (id == null || version == 0) {
            return;
        }
        boolean stale;
        synchronized (lock) {
            stale = told.getOrDefault(id, 0L) < version;
        }
        if (stale) {
            announceTo(c);
        }
    }

    private void announceTo(NetworkConnection c) {
        synchronized (lock) {
            if (!telling.add(c)) {
                again.add(c);
                return;
            }
        }
        try {
            tellers.execute(() -> tell(c));
        } catch (RejectedExecutionException e) {
            // the mesh is stopping: nobody is told any more
            synchronized (lock) {
                telling.remove(c);
                again.remove(c);
            }
        }
    }

    /** Handshakes with one peer, once more for each round of changes that came meanwhile. On the pool. */
    private void tell(NetworkConnection c) {
        do {
            if (c.getState() != ConnectionState.CONNECTED || c.getRemoteNode().isEmpty()) {
                continue;
            }
            NodeInfo n = c.getRemoteNode().get();
            long at = localList.version(); // before the handshake is built: what it carries is at least this new
            try {
                peerLists.apply(c, handshaker.handshake(n.address(), n.httpPort()));
                synchronized (lock) {
                    told.merge(n.id(), at, Math::max);
                }
            } catch (IOException e) {
                if (scheduler.closing()) {
                    LOG.debug("stopping; {} was not told about our devices: {}", n.name(), e.getMessage());
                } else {
                    LOG.warn("could not tell {} about our devices: {}", n.name(), e.getMessage());
                }
            }
        } while (tellAgain(c));
    }

    private boolean tellAgain(NetworkConnection c) {
        synchronized (lock) {
            if (again.remove(c) && !scheduler.closing()) {
                return true;
            }
            telling.remove(c);
            return false;
        }
    }
}
