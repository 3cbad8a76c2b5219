package org.midimesh.http.internal;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.DeviceType;
import org.midimesh.api.LocalNode;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.ConnectionListener;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.ConnectionMetrics.LatencySummary;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.devices.DeviceRegistry;
import org.midimesh.api.devices.DeviceStatus;
import org.midimesh.api.devices.LocalDevice;
import org.midimesh.api.driver.Availability;
import org.midimesh.api.driver.InputSink;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.virtual.ReceivedLog;
import org.midimesh.api.virtual.VirtualPorts;
import org.midimesh.api.mesh.Mesh;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.routing.Route;
import org.midimesh.api.routing.RouteRequest;
import org.midimesh.api.routing.RoutingService;
import org.midimesh.api.strategy.Canary;
import org.midimesh.api.strategy.PolicyDecision;
import org.midimesh.api.strategy.PolicyMode;
import org.midimesh.api.strategy.PolicySettings;
import org.midimesh.api.strategy.StrategyChange;
import org.midimesh.api.strategy.StrategyControl;
import org.midimesh.api.strategy.StrategyReport;
import org.midimesh.api.strategy.StrategyStatus;
import org.midimesh.api.strategy.SwapResult;
import org.midimesh.api.strategy.Verdict;
import org.midimesh.api.transport.DataFrame;
import org.midimesh.api.transport.TransportStats;

/** Small hand-written fakes of the services the servlets use. Single-threaded test use only. */
final class Fakes {

    static final NodeId LOCAL_ID = NodeId.parse("11111111-1111-1111-1111-111111111111");
    static final NodeId PEER_ID = NodeId.parse("22222222-2222-2222-2222-222222222222");

    private Fakes() {
    }

    static final class Node implements LocalNode {
        Optional<String> token = Optional.empty();
        String name = "alpha";
        Instant startedAt = Instant.now().minusSeconds(42);

        @Override
        public NodeId id() {
            return LOCAL_ID;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public String hostname() {
            return "alpha.local";
        }

        @Override
        public String version() {
            return "0.1.0";
        }

        @Override
        public String bindAddress() {
            return "0.0.0.0";
        }

        @Override
        public int httpPort() {
            return 7474;
        }

        @Override
        public int udpPort() {
            return 7475;
        }

        @Override
        public int tcpPort() {
            return 7476;
        }

        @Override
        public Optional<String> strategyOption() {
            return Optional.empty();
        }

        @Override
        public Path dataDir() {
            return Path.of("data");
        }

        @Override
        public Optional<String> adminToken() {
            return token;
        }

        @Override
        public List<String> staticPeers() {
            return List.of();
        }

        @Override
        public String discovery() {
            return "none";
        }

        @Override
        public Instant startedAt() {
            return startedAt;
        }
    }

    /** An output port that remembers what it played, like a virtual output. */
    static final class LoggingOutput implements MidiPort, ReceivedLog {
        final String name;
        final List<Received> played = new ArrayList<>();

        LoggingOutput(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public DeviceType type() {
            return DeviceType.OUTPUT;
        }

        @Override
        public void play(List<MidiMessage> messages, NodeId source) {
            for (MidiMessage m : messages) {
                played.add(new Received(played.size() + 1, m, 1000L * played.size(), source));
            }
        }

        @Override
        public void setInputSink(InputSink sink) {
        }

        @Override
        public Page read(long after, int limit) {
            List<Received> out = played.stream().filter(r -> r.seq() > after).limit(limit).toList();
            long next = out.isEmpty() ? after : out.get(out.size() - 1).seq();
            return new Page(played.size(), next, out);
        }
    }

    /** A port without a received log (an input, or an output of another driver). */
    static class PlainPort implements MidiPort {
        final String name;
        final DeviceType type;

        PlainPort(String name, DeviceType type) {
            this.name = name;
            this.type = type;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public DeviceType type() {
            return type;
        }

        @Override
        public void play(List<MidiMessage> messages, NodeId source) {
        }

        @Override
        public void setInputSink(InputSink sink) {
        }
    }

    static final class Registry implements DeviceRegistry {
        final Map<Integer, LocalDevice> devices = new LinkedHashMap<>();
        final Map<Integer, MidiPort> ports = new HashMap<>();
        final List<List<MidiMessage>> sent = new ArrayList<>();

        Registry add(LocalDevice d, MidiPort port) {
            devices.put(d.id(), d);
            ports.put(d.id(), port);
            return this;
        }

        /** Device 1 virtual input "alpha In", 2 virtual output "alpha Out" (logging), 3 javasound output. */
        static Registry standard() {
            return new Registry()
                    .add(new LocalDevice(1, "alpha In", DeviceType.INPUT, "virtual"),
                            new PlainPort("alpha In", DeviceType.INPUT))
                    .add(new LocalDevice(2, "alpha Out", DeviceType.OUTPUT, "virtual"), new LoggingOutput("alpha Out"))
                    .add(new LocalDevice(3, "Synth", DeviceType.OUTPUT, "javasound"),
                            new PlainPort("Synth", DeviceType.OUTPUT));
        }

        @Override
        public List<LocalDevice> devices() {
            return List.copyOf(devices.values());
        }

        @Override
        public Optional<LocalDevice> find(int id) {
            return Optional.ofNullable(devices.get(id));
        }

        @Override
        public Optional<MidiPort> port(int id) {
            return Optional.ofNullable(ports.get(id));
        }

        @Override
        public void send(int id, List<MidiMessage> messages) {
            if (!devices.containsKey(id)) {
                throw new NoSuchElementException("no device " + id);
            }
            sent.add(List.copyOf(messages));
            if (ports.get(id) instanceof LoggingOutput out) {
                out.play(messages, LOCAL_ID);
            }
        }

        @Override
        public void play(int outputId, List<MidiMessage> messages, NodeId source) {
            send(outputId, messages);
        }

        /** Ports are available unless they say otherwise; outputs report what a test set in {@link #dropped}. */
        final Map<Integer, Long> dropped = new HashMap<>();

        @Override
        public Optional<DeviceStatus> status(int id) {
            MidiPort p = ports.get(id);
            if (p == null) {
                return Optional.empty();
            }
            Availability a = p.availability();
            return Optional.of(new DeviceStatus(a.available(), a.reason(), 0, dropped.getOrDefault(id, 0L), 0, 0));
        }
    }

    /** Virtual ports that show up in {@link Registry} under the next free id. */
    static final class Virtual implements VirtualPorts {
        final Registry registry;
        final List<String> deleted = new ArrayList<>();

        Virtual(Registry registry) {
            this.registry = registry;
        }

        @Override
        public MidiPort create(String name, DeviceType type) {
            if (find(name, type).isPresent()) {
                throw new IllegalArgumentException("exists");
            }
            int id = registry.devices.keySet().stream().mapToInt(Integer::intValue).max().orElse(0) + 1;
            MidiPort port = type == DeviceType.OUTPUT ? new LoggingOutput(name) : new PlainPort(name, type);
            registry.add(new LocalDevice(id, name, type, "virtual"), port);
            return port;
        }

        @Override
        public boolean delete(String name, DeviceType type) {
            Optional<LocalDevice> d = registry.devices.values().stream()
                    .filter(x -> x.driver().equals("virtual") && x.name().equals(name) && x.type() == type)
                    .findFirst();
            d.ifPresent(x -> {
                registry.devices.remove(x.id());
                registry.ports.remove(x.id());
                deleted.add(name);
            });
            return d.isPresent();
        }

        @Override
        public Optional<MidiPort> find(String name, DeviceType type) {
            return registry.devices.values().stream()
                    .filter(x -> x.driver().equals("virtual") && x.name().equals(name) && x.type() == type)
                    .findFirst().map(x -> registry.ports.get(x.id()));
        }

        @Override
        public boolean owns(MidiPort port) {
            return registry.devices.values().stream()
                    .anyMatch(x -> x.driver().equals("virtual") && registry.ports.get(x.id()) == port);
        }

        @Override
        public boolean isDefault(MidiPort port) {
            return owns(port) && (port.name().equals("alpha In") || port.name().equals("alpha Out"));
        }
    }

    static final class Connection implements org.midimesh.api.test.FakeConnectionDefaults {
        Optional<NodeId> remoteId = Optional.empty();
        Optional<NodeInfo> remoteNode = Optional.empty();
        List<DeviceInfo> devices = List.of();
        ConnectionState state = ConnectionState.CONNECTING;
        long sinceHeartbeat = Long.MAX_VALUE;
        String strategy = "mutex";
        ConnectionMetrics metrics = new ConnectionMetrics("fake", 0, 0, 0, 0, 0, LatencySummary.EMPTY, 0, 0, 0);

        static Connection connectedPeer() {
            Connection c = new Connection();
            c.remoteId = Optional.of(PEER_ID);
            c.remoteNode = Optional.of(new NodeInfo(PEER_ID, "beta", "beta.local", "10.0.0.2", 8474, 8475, 8476,
                    "0.1.0"));
            c.devices = List.of(new DeviceInfo(1, "beta In", DeviceType.INPUT),
                    new DeviceInfo(2, "beta Out", DeviceType.OUTPUT));
            c.state = ConnectionState.CONNECTED;
            c.sinceHeartbeat = 120;
            return c;
        }

        @Override
        public String strategy() {
            return strategy;
        }

        @Override
        public void connect() {
        }

        @Override
        public void disconnect() {
        }

        @Override
        public void handshakeCompleted(Handshake peer) {
        }

        @Override
        public void goodbyeReceived() {
        }

        @Override
        public ConnectionState getState() {
            return state;
        }

        @Override
        public Optional<NodeId> getRemoteId() {
            return remoteId;
        }

        @Override
        public Optional<NodeInfo> getRemoteNode() {
            return remoteNode;
        }

        @Override
        public List<DeviceInfo> getRemoteDevices() {
            return devices;
        }

        @Override
        public long getTimeSinceLastHeartbeat() {
            return sinceHeartbeat;
        }

        @Override
        public void notifyHeartbeat() {
        }

        @Override
        public void checkHeartbeat() {
        }

        @Override
        public boolean send(DataFrame frame) {
            return false;
        }

        @Override
        public void addListener(ConnectionListener listener) {
        }

        @Override
        public void removeListener(ConnectionListener listener) {
        }

        @Override
        public ConnectionMetrics metrics() {
            return metrics;
        }

        @Override
        public void close() {
        }
    }

    /**
     * Metrics with distinct values: queries 10*base, contentions base, callbacks base+1, commands base+2, queue
     * depth base+3, latency (count base+4, p50 100*base, p99 200*base, p999 300*base, max 400*base), errors base+5,
     * dropped base+6, stalls base+7.
     */
    static ConnectionMetrics metrics(String strategy, long base) {
        return new ConnectionMetrics(strategy, 10 * base, base, base + 1, base + 2, (int) base + 3,
                new LatencySummary(base + 4, 100 * base, 200 * base, 300 * base, 400 * base), base + 5, base + 6,
                base + 7);
    }

    /**
     * The strategy manager in memory: settings that {@link #change}, {@link #pin}, {@link #unpin} and
     * {@link #rollback} apply as the real one would, refusals as {@link StrategyControl} documents them, fixed answers
     * for the rest, and every call recorded. {@link #failWith}, when set, is thrown by every call instead.
     */
    static final class Control implements StrategyControl {
        final List<String> available = new ArrayList<>(List.of("mutex", "seda"));
        String defaultStrategy = "mutex";
        Canary canary = Canary.NONE;
        final Map<NodeId, String> pins = new LinkedHashMap<>();
        final Map<String, Integer> connections = new LinkedHashMap<>(Map.of("seda", 1, "mutex", 2));
        PolicySettings policy = new PolicySettings(PolicyMode.MANUAL, 60_000, 300_000, 20.0, 50.0, 5, 10, 3, 1000,
                "seda");
        Optional<String> degraded = Optional.empty();
        /** Peers with a live connection: pin needs one, unpin one or a pin. */
        final Set<NodeId> connected = new HashSet<>(Set.of(PEER_ID));
        StrategyReport report = new StrategyReport(Instant.parse("2025-01-02T03:04:05.678Z"), 60_000,
                List.of(new StrategyReport.Figures("mutex", "default", 2, 5000, 120, 900, 4000, 12.5, 1, 2, 3),
                        new StrategyReport.Figures("seda", "canary", 1, 800, 80, 300, 1000, 0.0, 0, 0, 0)),
                new Verdict(Verdict.Action.PROMOTE, "mutex contention 12.5% above 10% over the window",
                        Map.of("default_contention_percent", 12.5, "canary_p99_ns", 300.0)));
        List<PolicyDecision> decisions = List.of(
                new PolicyDecision(Instant.parse("2025-01-02T03:05:00Z"), "operator",
                        new Verdict(Verdict.Action.ROLLBACK, "asked for by an operator", Map.of()), true,
                        "canary seda 5% -> 0%"),
                new PolicyDecision(Instant.parse("2025-01-02T03:00:00Z"), "policy",
                        new Verdict(Verdict.Action.KEEP, "too few queries", Map.of("queries", 12.0)), false, ""));
        SortedMap<String, ConnectionMetrics> metrics = new TreeMap<>();
        SwapResult result = new SwapResult(2, 15, List.of());
        RuntimeException failWith;
        final List<StrategyChange> changes = new ArrayList<>();
        /** "pin PEER seda", "unpin PEER". */
        final List<String> pinCalls = new ArrayList<>();
        final List<String> rollbacks = new ArrayList<>();

        private void fail() {
            if (failWith != null) {
                throw failWith;
            }
        }

        private void requireAvailable(String field, String name) {
            if (!available.contains(name)) {
                throw new IllegalArgumentException(field + ": no strategy named " + name + " is available");
            }
        }

        @Override
        public NetworkConnection open(ConnectionContext context) {
            throw new UnsupportedOperationException("not needed by these tests");
        }

        @Override
        public StrategyStatus status() {
            fail();
            return new StrategyStatus(defaultStrategy, canary, available, connections, pins, policy, degraded);
        }

        @Override
        public SwapResult change(StrategyChange change) {
            fail();
            change.defaultStrategy().ifPresent(d -> requireAvailable("default", d));
            change.canary().filter(Canary::active).ifPresent(c -> requireAvailable("canary.strategy", c.strategy()));
            changes.add(change);
            change.defaultStrategy().ifPresent(d -> defaultStrategy = d);
            change.canary().ifPresent(c -> canary = c);
            return result;
        }

        @Override
        public SwapResult pin(NodeId peer, String strategy) {
            fail();
            if (!connected.contains(peer)) {
                throw new NoSuchElementException("no connection to node " + peer);
            }
            if (!available.contains(strategy)) {
                // without the field name, as another implementation might say it
                throw new IllegalArgumentException("no strategy named " + strategy + " is available");
            }
            pinCalls.add("pin " + peer + " " + strategy);
            pins.put(peer, strategy);
            return result;
        }

        @Override
        public SwapResult unpin(NodeId peer) {
            fail();
            if (!pins.containsKey(peer) && !connected.contains(peer)) {
                throw new NoSuchElementException("node " + peer + " has neither a pin nor a connection");
            }
            pinCalls.add("unpin " + peer);
            pins.remove(peer);
            return result;
        }

        @Override
        public SwapResult rollback(String reason) {
            fail();
            rollbacks.add(reason);
            canary = Canary.NONE;
            return result;
        }

        @Override
        public StrategyReport report() {
            fail();
            return report;
        }

        @Override
        public List<PolicyDecision> decisions() {
            fail();
            return decisions;
        }

        @Override
        public SortedMap<String, ConnectionMetrics> metricsByStrategy() {
            fail();
            return new TreeMap<>(metrics);
        }
    }

    static final class FakeMesh implements Mesh {
        final List<NetworkConnection> connections = new ArrayList<>();
        final List<RemoteDevice> remoteDevices = new ArrayList<>();
        final List<Peer> peers = new ArrayList<>();
        final List<String> added = new ArrayList<>();
        final List<NodeId> forgotten = new ArrayList<>();
        final List<Handshake> accepted = new ArrayList<>();
        final List<String> acceptedFrom = new ArrayList<>();
        final Map<NodeId, Long> rtt = new HashMap<>();
        final Node node;

        FakeMesh(Node node) {
            this.node = node;
        }

        /** One connected peer "beta" with two devices, one pending connection, and two known peer addresses. */
        static FakeMesh standard(Node node) {
            FakeMesh m = new FakeMesh(node);
            Connection beta = Connection.connectedPeer();
            m.connections.add(beta);
            m.connections.add(new Connection());
            for (DeviceInfo d : beta.devices) {
                m.remoteDevices.add(new RemoteDevice(PEER_ID, "beta", d));
            }
            m.rtt.put(PEER_ID, 350L);
            m.peers.add(new Peer("10.0.0.2", 8474, PeerSource.STATIC, Optional.of(PEER_ID)));
            m.peers.add(new Peer("fe80::1", 7474, PeerSource.DISCOVERED, Optional.empty()));
            return m;
        }

        @Override
        public List<NetworkConnection> connections() {
            return List.copyOf(connections);
        }

        @Override
        public Optional<NetworkConnection> connection(NodeId peer) {
            return connections.stream().filter(c -> c.getRemoteId().equals(Optional.of(peer))).findFirst();
        }

        @Override
        public List<RemoteDevice> remoteDevices() {
            return List.copyOf(remoteDevices);
        }

        @Override
        public List<Peer> peers() {
            return List.copyOf(peers);
        }

        @Override
        public void addPeer(String host, int httpPort, PeerSource source) {
            added.add(host + " " + httpPort + " " + source);
        }

        @Override
        public boolean forget(NodeId peer) {
            if (peers.stream().anyMatch(p -> p.nodeId().equals(Optional.of(peer)))) {
                forgotten.add(peer);
                return true;
            }
            return false;
        }

        @Override
        public Handshake acceptHandshake(Handshake peer, String remoteAddress) {
            accepted.add(peer);
            acceptedFrom.add(remoteAddress);
            return localHandshake();
        }

        @Override
        public Handshake localHandshake() {
            return new Handshake(node.toNodeInfo("0.0.0.0"), List.of(new DeviceInfo(1, "alpha In", DeviceType.INPUT),
                    new DeviceInfo(2, "alpha Out", DeviceType.OUTPUT)));
        }

        @Override
        public OptionalLong roundTripMicros(NodeId peer) {
            Long v = rtt.get(peer);
            return v == null ? OptionalLong.empty() : OptionalLong.of(v);
        }
    }

    /** Routes in memory; create/update throw what {@link #failWith} says, as the real service's validation would. */
    static class Routing implements RoutingService {
        final Map<String, Route> routes = new LinkedHashMap<>();
        final List<RouteRequest> requests = new CopyOnWriteArrayList<>();
        IllegalArgumentException failWith;
        int next = 1;

        Routing add(Route r) {
            routes.put(r.id(), r);
            return this;
        }

        @Override
        public List<Route> routes() {
            return List.copyOf(routes.values());
        }

        @Override
        public Optional<Route> get(String id) {
            return Optional.ofNullable(routes.get(id));
        }

        @Override
        public Route create(RouteRequest request) {
            requests.add(request);
            if (failWith != null) {
                throw failWith;
            }
            Route r = new Route("r" + next++, request.enabled().orElse(true), request.priority().orElse(100),
                    request.source().orElseThrow(), request.destination().orElseThrow(),
                    request.channelFilter().orElse(0), request.messageTypes().orElse(Set.of()), 0, 0, false, "");
            routes.put(r.id(), r);
            return r;
        }

        @Override
        public Optional<Route> update(String id, RouteRequest request) {
            requests.add(request);
            if (failWith != null) {
                throw failWith;
            }
            Route old = routes.get(id);
            if (old == null) {
                return Optional.empty();
            }
            Route r = new Route(id, request.enabled().orElse(old.enabled()), request.priority().orElse(old.priority()),
                    old.source(), old.destination(), request.channelFilter().orElse(old.channelFilter()),
                    request.messageTypes().orElse(old.messageTypes()), old.messagesForwarded(),
                    old.messagesDropped(), old.orphaned(), old.orphanedReason());
            routes.put(id, r);
            return Optional.of(r);
        }

        @Override
        public boolean delete(String id) {
            return routes.remove(id) != null;
        }

        @Override
        public Stats stats() {
            return new Stats(10, 2, 1);
        }
    }

    static class Transport implements TransportStats {
        @Override
        public Counters total() {
            return new Counters(100, 90, 5000, 4000, 3, 1, 2);
        }

        @Override
        public Map<NodeId, Counters> perPeer() {
            return Map.of(PEER_ID, new Counters(100, 90, 5000, 4000, 3, 1, 2));
        }

        @Override
        public int udpPort() {
            return 7475;
        }
    }
}
