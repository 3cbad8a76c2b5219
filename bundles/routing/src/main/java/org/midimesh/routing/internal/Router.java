package org.midimesh.routing.internal;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

import org.midimesh.api.DeviceType;
import org.midimesh.api.LocalNode;
import org.midimesh.api.NodeId;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.devices.DeviceListener;
import org.midimesh.api.devices.DeviceRegistry;
import org.midimesh.api.devices.LocalDevice;
import org.midimesh.api.mesh.Mesh;
import org.midimesh.api.midi.MessageType;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.routing.Route;
import org.midimesh.api.routing.RouteEndpoint;
import org.midimesh.api.routing.RouteRequest;
import org.midimesh.api.routing.RoutingService;
import org.midimesh.api.transport.DataFrame;
import org.midimesh.api.transport.DatagramListener;
import org.midimesh.common.ListenerRegistrations;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The routes of this node and the forwarding of MIDI along them.
 * <p>Owns no thread: forwarding runs on the caller's thread (a driver or HTTP thread for local input, the transport's
 * receive thread for datagrams). Readers and forwarders take the current {@link RouteSnapshot} without a lock; route
 * changes are serialized by {@link #writeLock}, which guards only building, persisting and publishing a snapshot and
 * is never held while calling another service.
 */
@Component(service = RoutingService.class)
public final class Router implements RoutingService, DeviceListener, DatagramListener {

    private static final Logger LOG = LoggerFactory.getLogger(Router.class);
    private static final Logger AUDIT = LoggerFactory.getLogger("midimesh.audit");
    private static final Duration WARN_INTERVAL = Duration.ofSeconds(10);

    private final NodeId localId;
    private final DeviceRegistry devices;
    private final Mesh mesh;
    private final RoutesFile file;

    // Written only under writeLock, after the new routes were persisted; read by any thread without a lock. A
    // snapshot is deeply immutable and built before it is set, so the volatile write publishes all of it.
    private final AtomicReference<RouteSnapshot> snapshot;
    private final ReentrantLock writeLock = new ReentrantLock();

    // Totals across routes (kept when a route is deleted). Incremented by forwarding threads, summed by readers.
    private final LongAdder forwarded = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder loops = new LongAdder();
    // Received frames that could not be played (unknown or non-output device, play failed).
    private final LongAdder receiveErrors = new LongAdder();
    // Messages of received frames played on a local output.
    private final LongAdder receivedPlayed = new LongAdder();

    private final LogLimiter receiveWarnings = new LogLimiter(WARN_INTERVAL);
    private final LogLimiter loopWarnings = new LogLimiter(WARN_INTERVAL);

    // Nesting depth of forwarding on the current thread: playing on an output can synchronously produce input again
    // (a loopback port), which would recurse without hop counting. Plain ThreadLocal (no subclass, no supplier) so a
    // pooled thread keeps no reference to this bundle's classes; removed when the depth returns to 0.
    private final ThreadLocal<int[]> depth = new ThreadLocal<>();

    /** Set in publishListeners and closed in deactivate, both on SCR's thread; null in unit tests. */
    private ListenerRegistrations listeners;

    @Activate
    public Router(@Reference(name = "localNode") LocalNode localNode,
            @Reference(name = "devices") DeviceRegistry devices, @Reference(name = "mesh") Mesh mesh) {
        this.localId = localNode.id();
        this.devices = devices;
        this.mesh = mesh;
        this.file = new RoutesFile(localNode.dataDir());
        List<RouteState> loaded = file.load();
        this.snapshot = new AtomicReference<>(new RouteSnapshot(loaded));
        LOG.info("routing activated, node {}, {} routes loaded from {}", localId, loaded.size(), file.path());
    }

    /**
     * Publishes the router as a device and datagram listener once it is active (declared as DS services they would
     * form a cycle with the registry it plays on; see ListenerRegistrations).
     */
    @Activate
    void publishListeners(BundleContext context) {
        listeners = new ListenerRegistrations(context).register(DeviceListener.class, this)
                .register(DatagramListener.class, this);
    }

    @Deactivate
    void deactivate() {
        if (listeners != null) {
            listeners.close();
        }
        LOG.info("routing deactivated");
    }

    // ---------------------------------------------------------------- RoutingService

    @Override
    public List<Route> routes() {
        List<RouteState> rs = snapshot.get().inForwardingOrder;
        List<Route> out = new ArrayList<>(rs.size());
        RemoteDevices remote = new RemoteDevices(mesh);
        for (RouteState r : rs) {
            out.add(toRoute(r, remote));
        }
        return List.copyOf(out);
    }

    @Override
    public Optional<Route> get(String id) {
        if (id == null) {
            return Optional.empty();
        }
        return Optional.ofNullable(snapshot.get().byId.get(id)).map(this::toRoute);
    }

    @Override
    public Route create(RouteRequest request) {
        if (request == null) {
            throw new IllegalArgumentException("request is missing");
        }
        RouteEndpoint source = opt(request.source())
                .orElseThrow(() -> new IllegalArgumentException("source is missing"));
        RouteEndpoint destination = opt(request.destination())
                .orElseThrow(() -> new IllegalArgumentException("destination is missing"));
        boolean enabled = opt(request.enabled()).orElse(true);
        int priority = RouteState.checkPriority(opt(request.priority()).orElse(RouteState.DEFAULT_PRIORITY));
        int channel = RouteState.checkChannelFilter(opt(request.channelFilter()).orElse(0));
        Set<MessageType> types = checkTypes(opt(request.messageTypes()).orElse(Set.of()));
        // Asks the registry and the mesh: done before taking the lock.
        checkEndpoint("source", source, DeviceType.INPUT);
        checkEndpoint("destination", destination, DeviceType.OUTPUT);

        RouteState route = new RouteState(UUID.randomUUID().toString(), enabled, priority, source, destination,
                channel, types, new RouteCounters());
        writeLock.lock();
        try {
            publish(snapshot.get().withRoute(route));
        } finally {
            writeLock.unlock();
        }
        AUDIT.info("route {} created: {} -> {}, enabled {}, priority {}, channel_filter {}, message_types {}",
                route.id, source, destination, enabled, priority, channel, types);
        return toRoute(route);
    }

    @Override
    public Optional<Route> update(String id, RouteRequest request) {
        if (request == null) {
            throw new IllegalArgumentException("request is missing");
        }
        Optional<Boolean> enabled = opt(request.enabled());
        Optional<Integer> priority = opt(request.priority());
        Optional<Integer> channel = opt(request.channelFilter());
        Optional<Set<MessageType>> types = opt(request.messageTypes());
        priority.ifPresent(RouteState::checkPriority);
        channel.ifPresent(RouteState::checkChannelFilter);
        types.ifPresent(Router::checkTypes);
        if (id == null) {
            return Optional.empty();
        }
        RouteState before;
        RouteState after;
        writeLock.lock();
        try {
            RouteSnapshot current = snapshot.get();
            before = current.byId.get(id);
            if (before == null) {
                return Optional.empty();
            }
            // Source and destination are fixed; tolerate them when unchanged (a client echoing the route back).
            opt(request.source()).filter(s -> !s.equals(before.source)).ifPresent(s -> {
                throw new IllegalArgumentException("source cannot be changed; create a new route instead");
            });
            opt(request.destination()).filter(d -> !d.equals(before.destination)).ifPresent(d -> {
                throw new IllegalArgumentException("destination cannot be changed; create a new route instead");
            });
            after = before.with(enabled.orElse(before.enabled), priority.orElse(before.priority),
                    channel.orElse(before.channelFilter), types.orElse(before.messageTypes));
            if (!after.sameSettings(before)) {
                publish(current.withRoute(after));
            }
        } finally {
            writeLock.unlock();
        }
        if (!after.sameSettings(before)) {
            AUDIT.info("route {} updated: enabled {}, priority {}, channel_filter {}, message_types {}", id,
                    after.enabled, after.priority, after.channelFilter, after.messageTypes);
        }
        return Optional.of(toRoute(after));
    }

    @Override
    public boolean delete(String id) {
        if (id == null) {
            return false;
        }
        writeLock.lock();
        try {
            RouteSnapshot current = snapshot.get();
            if (!current.byId.containsKey(id)) {
                return false;
            }
            publish(current.without(id));
        } finally {
            writeLock.unlock();
        }
        AUDIT.info("route {} deleted", id);
        return true;
    }

    @Override
    public Stats stats() {
        return new Stats(forwarded.sum(), dropped.sum(), loops.sum());
    }

    /** Received frames that could not be played locally (also counted in the dropped total). */
    long receiveErrors() {
        return receiveErrors.sum();
    }

    /** Messages of received frames played on a local output. */
    long receivedPlayed() {
        return receivedPlayed.sum();
    }

    /**
     * Persists, then publishes. Persisting first means a failed write leaves nothing to roll back: no reader ever saw
     * the change. Caller holds {@link #writeLock}.
     *
     * @throws IllegalStateException when the file could not be written; nothing changed
     */
    private void publish(RouteSnapshot next) {
        assert writeLock.isHeldByCurrentThread() : "route changes are made under writeLock only";
        try {
            file.save(next.inCreationOrder);
        } catch (IOException e) {
            LOG.error("cannot write {}; the route change was not made", file.path(), e);
            throw new IllegalStateException("cannot save routes: " + e, e);
        }
        snapshot.set(next);
    }

    private Route toRoute(RouteState r) {
        return toRoute(r, new RemoteDevices(mesh));
    }

    private Route toRoute(RouteState r, RemoteDevices remote) {
        String why = missing("source", r.source, DeviceType.INPUT, remote);
        if (why == null) {
            why = missing("destination", r.destination, DeviceType.OUTPUT, remote);
        }
        return new Route(r.id, r.enabled, r.priority, r.source, r.destination, r.channelFilter, r.messageTypes,
                r.counters.forwarded.sum(), r.counters.dropped.sum(), why != null, why == null ? "" : why);
    }

    /** Why the endpoint is not usable now, or null when it is: the reason a route is shown as orphaned. */
    private String missing(String field, RouteEndpoint e, DeviceType type, RemoteDevices remote) {
        int id = e.deviceId();
        if (e.node().equals(localId)) {
            Optional<LocalDevice> d = devices.find(id);
            if (d.isEmpty()) {
                return field + ": this node has no device " + id + " (now)";
            }
            return d.get().type() == type ? null
                    : field + ": device " + id + " of this node is an " + d.get().type().wireName();
        }
        Map<Integer, DeviceType> known = remote.byNode.get(e.node());
        if (known == null) {
            return field + ": node " + e.node() + " is not connected with its devices known";
        }
        DeviceType t = known.get(id);
        if (t == null) {
            return field + ": node " + e.node() + " has no device " + id + " (now)";
        }
        return t == type ? null : field + ": device " + id + " of node " + e.node() + " is an " + t.wireName();
    }

    /** The devices of the connected peers, by node and id, read once for a listing. */
    private static final class RemoteDevices {
        final Map<NodeId, Map<Integer, DeviceType>> byNode = new HashMap<>();

        RemoteDevices(Mesh mesh) {
            for (Mesh.RemoteDevice rd : mesh.remoteDevices()) {
                byNode.computeIfAbsent(rd.node(), n -> new HashMap<>()).put(rd.device().id(), rd.device().type());
            }
        }
    }

    /** @throws IllegalArgumentException naming {@code field.node_id} or {@code field.device_id} */
    private void checkEndpoint(String field, RouteEndpoint e, DeviceType wanted) {
        int id = e.deviceId();
        DeviceType actual;
        String name;
        if (e.node().equals(localId)) {
            LocalDevice d = devices.find(id).orElseThrow(
                    () -> new IllegalArgumentException(field + ".device_id: this node has no device " + id));
            actual = d.type();
            name = d.name();
        } else {
            boolean nodeKnown = false;
            Mesh.RemoteDevice found = null;
            for (Mesh.RemoteDevice rd : mesh.remoteDevices()) {
                if (rd.node().equals(e.node())) {
                    nodeKnown = true;
                    if (rd.device().id() == id) {
                        found = rd;
                        break;
                    }
                }
            }
            if (!nodeKnown) {
                boolean connected = mesh.connection(e.node())
                        .map(c -> c.getState() == ConnectionState.CONNECTED).orElse(false);
                throw new IllegalArgumentException(field + ".node_id: " + e.node() + (connected
                        ? " is connected but has told this node of no devices (yet: a peer's device list follows its"
                                + " changes within 2 s; GET /network/mesh shows how many devices each peer has)"
                        : " is neither this node nor a connected peer with devices"));
            }
            if (found == null) {
                throw new IllegalArgumentException(field + ".device_id: node " + e.node() + " has no device " + id);
            }
            actual = found.device().type();
            name = found.device().name();
        }
        if (actual != wanted) {
            throw new IllegalArgumentException(field + ".device_id: device " + id + " (" + name + ") is an "
                    + actual.wireName() + ", the " + field + " must be an " + wanted.wireName());
        }
    }

    private static Set<MessageType> checkTypes(Set<MessageType> types) {
        for (MessageType t : types) {
            if (t == null) {
                throw new IllegalArgumentException("message_types holds a null");
            }
        }
        return types;
    }

    /** A record built by hand may carry a null Optional; treat it as empty. */
    private static <T> Optional<T> opt(Optional<T> o) {
        return o == null ? Optional.empty() : o;
    }

    // ---------------------------------------------------------------- DeviceListener

    @Override
    public void inputProduced(LocalDevice input, List<MidiMessage> messages) {
        if (input == null || messages == null || messages.isEmpty()) {
            return;
        }
        List<RouteState> routes = snapshot.get().enabledFrom(localId, input.id());
        if (!routes.isEmpty()) {
            forwardGuarded(routes, messages, localId, input.id(), 0);
        }
    }

    // ---------------------------------------------------------------- DatagramListener

    @Override
    public void dataReceived(NodeId sender, DataFrame frame, long sequence, long sentAtMicros) {
        if (frame == null) {
            return;
        }
        if (frame.hops() > DataFrame.MAX_HOPS) {
            loopDetected(frame, "arrived after " + frame.hops() + " hops");
            dropped.add(frame.messages().size());
            return;
        }
        playReceived(sender, frame);
        List<RouteState> onward = snapshot.get().enabledFrom(frame.sourceNode(), frame.sourceDevice());
        if (onward.isEmpty()) {
            return;
        }
        if (frame.sourceNode().equals(localId)) {
            // Our own input came back: its routes already ran when it was produced here.
            loopDetected(frame, "came back to its source node");
            return;
        }
        int hops = frame.hops() + 1;
        if (hops > DataFrame.MAX_HOPS) {
            loopDetected(frame, "would exceed " + DataFrame.MAX_HOPS + " hops");
            return;
        }
        forwardGuarded(onward, frame.messages(), frame.sourceNode(), frame.sourceDevice(), hops);
    }

    private void playReceived(NodeId sender, DataFrame frame) {
        int dest = frame.destinationDevice();
        List<MidiMessage> messages = frame.messages();
        Optional<LocalDevice> device = devices.find(dest);
        String problem;
        if (device.isEmpty()) {
            problem = "no such device";
        } else if (device.get().type() != DeviceType.OUTPUT) {
            problem = "it is an input";
        } else {
            try {
                devices.play(dest, messages, frame.sourceNode());
                receivedPlayed.add(messages.size());
                return;
            } catch (RuntimeException e) {
                problem = e.toString();
            }
        }
        receiveErrors.increment();
        dropped.add(messages.size());
        long suppressed = receiveWarnings.tryAcquire();
        if (suppressed >= 0) {
            LOG.warn("dropped {} messages from {} for local device {}: {} ({} more such drops not logged)",
                    messages.size(), sender, dest, problem, suppressed);
        }
    }

    private void loopDetected(DataFrame frame, String why) {
        loops.increment();
        long suppressed = loopWarnings.tryAcquire();
        if (suppressed >= 0) {
            LOG.warn("routing loop: messages from {} device {} {}; not forwarded ({} more loops not logged)",
                    frame.sourceNode(), frame.sourceDevice(), why, suppressed);
        }
    }

    // ---------------------------------------------------------------- forwarding

    private void forwardGuarded(List<RouteState> routes, List<MidiMessage> messages, NodeId sourceNode,
            int sourceDevice, int hops) {
        int[] d = depth.get();
        if (d == null) {
            d = new int[1];
            depth.set(d);
        } else if (d[0] >= DataFrame.MAX_HOPS) {
            loops.increment();
            long suppressed = loopWarnings.tryAcquire();
            if (suppressed >= 0) {
                LOG.warn("routing loop: messages from {} device {} re-entered routing {} times on one thread "
                        + "(a local output feeding an input?); not forwarded ({} more loops not logged)",
                        sourceNode, sourceDevice, d[0], suppressed);
            }
            return;
        }
        d[0]++;
        try {
            forward(routes, messages, sourceNode, sourceDevice, hops);
        } finally {
            if (--d[0] == 0) {
                depth.remove();
            }
        }
    }

    /** Runs messages through routes (enabled, from one source, highest priority first). No lock is held. */
    private void forward(List<RouteState> routes, List<MidiMessage> messages, NodeId sourceNode, int sourceDevice,
            int hops) {
        for (RouteState r : routes) {
            List<MidiMessage> passed;
            if (r.acceptsAll()) {
                passed = messages;
            } else {
                passed = new ArrayList<>(messages.size());
                for (MidiMessage m : messages) {
                    if (r.accepts(m)) {
                        passed.add(m);
                    }
                }
                drop(r, messages.size() - passed.size());
            }
            if (LOG.isTraceEnabled()) {
                LOG.trace("route {}: {} of {} messages pass", r.id, passed.size(), messages.size());
            }
            if (passed.isEmpty()) {
                continue;
            }
            if (r.destination.node().equals(localId)) {
                deliverLocally(r, passed, sourceNode);
            } else {
                deliverRemotely(r, passed, sourceNode, sourceDevice, hops);
            }
        }
    }

    private void deliverLocally(RouteState r, List<MidiMessage> messages, NodeId sourceNode) {
        try {
            devices.play(r.destination.deviceId(), messages, sourceNode);
            pass(r, messages.size());
        } catch (NoSuchElementException | IllegalArgumentException e) {
            drop(r, messages.size());
            warnDelivery(r, "local device " + r.destination.deviceId() + " cannot play them: " + e.getMessage(),
                    messages.size());
        } catch (RuntimeException e) {
            drop(r, messages.size());
            warnDelivery(r, "playing on local device " + r.destination.deviceId() + " failed: " + e, messages.size());
        }
    }

    private void deliverRemotely(RouteState r, List<MidiMessage> messages, NodeId sourceNode, int sourceDevice,
            int hops) {
        List<MidiMessage> realtime = messages;
        int nonRealtime = 0;
        for (MidiMessage m : messages) {
            if (!m.isRealtime()) {
                nonRealtime++;
            }
        }
        if (nonRealtime > 0) {
            // SysEx and system common need the reliable channel, which does not exist yet.
            drop(r, nonRealtime);
            if (r.counters.nonRealtimeWarned.compareAndSet(false, true)) {
                LOG.warn("route {}: SysEx and system common messages to remote node {} are dropped until the reliable "
                        + "channel exists (logged once per route)", r.id, r.destination.node());
            }
            realtime = new ArrayList<>(messages.size() - nonRealtime);
            for (MidiMessage m : messages) {
                if (m.isRealtime()) {
                    realtime.add(m);
                }
            }
            if (realtime.isEmpty()) {
                return;
            }
        }
        NodeId dest = r.destination.node();
        boolean sent = false;
        String problem;
        try {
            Optional<NetworkConnection> c = mesh.connection(dest);
            if (c.isEmpty()) {
                problem = "no connection to node " + dest;
            } else if (c.get().getState() != ConnectionState.CONNECTED) {
                problem = "node " + dest + " is " + c.get().getState().wireName();
            } else {
                sent = c.get().send(new DataFrame(r.destination.deviceId(), sourceNode, sourceDevice, hops, realtime));
                problem = sent ? null : "node " + dest + " refused the send (not connected)";
            }
        } catch (RuntimeException e) {
            problem = "sending to node " + dest + " failed: " + e;
        }
        if (sent) {
            pass(r, realtime.size());
        } else {
            drop(r, realtime.size());
            warnDelivery(r, problem, realtime.size());
        }
    }

    private void pass(RouteState r, int n) {
        r.counters.forwarded.add(n);
        forwarded.add(n);
    }

    private void drop(RouteState r, int n) {
        if (n > 0) {
            r.counters.dropped.add(n);
            dropped.add(n);
        }
    }

    private void warnDelivery(RouteState r, String problem, int n) {
        long suppressed = r.counters.deliveryWarnings.tryAcquire();
        if (suppressed >= 0) {
            LOG.warn("route {}: dropped {} messages, {} ({} more such drops on this route not logged)", r.id, n,
                    problem, suppressed);
        }
    }
}
