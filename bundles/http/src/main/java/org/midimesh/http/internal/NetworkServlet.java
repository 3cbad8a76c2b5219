package org.midimesh.http.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;

import org.midimesh.api.LocalNode;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.devices.DeviceRegistry;
import org.midimesh.api.mesh.Mesh;
import org.midimesh.api.routing.RoutingService;
import org.midimesh.api.strategy.StrategyControl;
import org.midimesh.api.strategy.SwapResult;
import org.midimesh.api.transport.TransportStats;
import org.midimesh.http.internal.StrategyJson.SwapJson;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletName;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import com.fasterxml.jackson.annotation.JsonProperty;

import jakarta.servlet.Servlet;

/**
 * The {@code /network} area: the mesh as this node sees it, the peer-to-peer handshake, peer addresses and transport
 * statistics, and moving one connection to another strategy (through {@link StrategyControl}, 503 on those endpoints
 * while it is missing). Requests run on Jetty threads.
 */
@Component(service = Servlet.class, property = NodeServlet.API_PROPERTY + "=network")
@HttpWhiteboardServletPattern("/network/*")
@HttpWhiteboardServletName("midimesh-network")
public class NetworkServlet extends ApiServlet {

    private static final long serialVersionUID = 1L;

    private final LocalNode node;
    private final Mesh mesh;
    private final DeviceRegistry registry;
    private final TransportStats transport;

    // Written by SCR on bind/unbind, read once per request on Jetty threads; the volatile write publishes the fully
    // constructed service. null while routing is missing (/network/stats then answers 503).
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile RoutingService routing;

    // As routing: null while the strategy manager is missing (the two strategy endpoints then answer 503).
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile StrategyControl strategyControl;

    record NodeRef(String uuid, String name) {
    }

    /** One peer node in {@code /network/mesh}. */
    record NodeJson(String uuid, String name, String ip, Integer httpPort, Integer udpPort, Integer tcpPort,
            String state, String strategy, int devices, Long lastHeartbeatMsAgo, Long rttUs) {
    }

    record MeshJson(NodeRef node, int connectedNodes, int totalNodes, int totalDevices, List<NodeJson> nodes) {
    }

    record PeerJson(String address, String source, String nodeId, String state) {
    }

    record PeerList(List<PeerJson> peers) {
    }

    record AddPeerBody(String address) {
    }

    record AddressReply(String address) {
    }

    record Forgotten(String forgotten) {
    }

    /**
     * {@code PUT /network/connections/{uuid}/strategy}. A class rather than a record: {@code "strategy": null}
     * (unpin) must differ from a body without the field (400). Filled by Jackson on the request thread.
     */
    static final class PinBody {
        private boolean strategyGiven;
        private String strategy;

        @JsonProperty("strategy")
        void setStrategy(String value) {
            strategyGiven = true;
            strategy = value;
        }
    }

    record CountersJson(long datagramsIn, long datagramsOut, long bytesIn, long bytesOut, long malformed,
            long realtimeDrops, long reliableRetries) {

        static CountersJson of(TransportStats.Counters c) {
            return new CountersJson(c.datagramsIn(), c.datagramsOut(), c.bytesIn(), c.bytesOut(), c.malformed(),
                    c.realtimeDrops(), c.reliableRetries());
        }
    }

    record RoutingStatsJson(long messagesForwarded, long messagesDropped, long loopsDetected) {
    }

    record StatsJson(CountersJson total, Map<String, CountersJson> peers, RoutingStatsJson routing) {
    }

    @Activate
    public NetworkServlet(@Reference(name = "localNode") LocalNode node, @Reference(name = "mesh") Mesh mesh,
            @Reference(name = "registry") DeviceRegistry registry,
            @Reference(name = "transport") TransportStats transport) {
        this.node = node;
        this.mesh = mesh;
        this.registry = registry;
        this.transport = transport;
        get("/network/mesh", x -> Reply.ok(meshJson()));
        withBody("POST", "/network/handshake", false, HandshakeJson.Dto.class, this::handshake);
        get("/network/peers", x -> Reply.ok(peers()));
        withBody("POST", "/network/peers", true, AddPeerBody.class, this::addPeer);
        delete("/network/peers/{uuid}", this::forget);
        get("/network/stats", x -> Reply.ok(stats()));
        withBody("PUT", "/network/connections/{uuid}/strategy", true, PinBody.class, this::pin);
        delete("/network/connections/{uuid}/strategy", this::unpin);
    }

    @Override
    protected LocalNode adminNode() {
        return node;
    }

    /** Connections whose peer id is not known yet (before the first handshake) are left out; see the README. */
    private MeshJson meshJson() {
        List<NodeJson> nodes = new ArrayList<>();
        int connected = 0;
        int remoteDevices = 0;
        for (NetworkConnection c : mesh.connections()) {
            Optional<NodeId> id = c.getRemoteId();
            if (id.isEmpty()) {
                continue;
            }
            Optional<NodeInfo> info = c.getRemoteNode();
            ConnectionState state = c.getState();
            int devices = c.getRemoteDevices().size();
            long since = c.getTimeSinceLastHeartbeat();
            OptionalLong rtt = mesh.roundTripMicros(id.get());
            if (state == ConnectionState.CONNECTED) {
                connected++;
                remoteDevices += devices;
            }
            nodes.add(new NodeJson(id.get().toString(), info.map(NodeInfo::name).orElse(null),
                    info.map(NodeInfo::address).orElse(null), info.map(NodeInfo::httpPort).orElse(null),
                    info.map(NodeInfo::udpPort).orElse(null), info.map(NodeInfo::tcpPort).orElse(null),
                    state.wireName(), c.strategy(), devices, since == Long.MAX_VALUE ? null : since,
                    rtt.isPresent() ? rtt.getAsLong() : null));
        }
        int total = registry.devices().size() + remoteDevices;
        return new MeshJson(new NodeRef(node.id().toString(), node.name()), connected, nodes.size(), total, nodes);
    }

    private Reply handshake(Exchange x, HandshakeJson.Dto body) {
        String remote = PeerAddress.unbracket(x.remoteAddr());
        Handshake peer;
        try {
            peer = HandshakeJson.fromDto(body, remote);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
        if (peer.node().id().equals(node.id())) {
            throw ApiException.badRequest("node_id is this node's own id");
        }
        Handshake ours;
        try {
            ours = mesh.acceptHandshake(peer, remote);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
        return Reply.ok(HandshakeJson.toDto(ours));
    }

    private PeerList peers() {
        List<PeerJson> out = new ArrayList<>();
        for (Mesh.Peer p : mesh.peers()) {
            String state = p.nodeId().flatMap(mesh::connection).map(c -> c.getState().wireName()).orElse(null);
            out.add(new PeerJson(PeerAddress.format(p.host(), p.httpPort()), p.source().wireName(),
                    p.nodeId().map(NodeId::toString).orElse(null), state));
        }
        return new PeerList(out);
    }

    private Reply addPeer(Exchange x, AddPeerBody body) {
        PeerAddress address;
        try {
            address = PeerAddress.parse(body.address());
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
        mesh.addPeer(address.host(), address.port(), Mesh.PeerSource.API);
        return new Reply(202, new AddressReply(address.toString()));
    }

    private Reply forget(Exchange x) {
        NodeId id = x.nodeId("uuid");
        if (!mesh.forget(id)) {
            throw ApiException.notFound("no peer with node id " + id);
        }
        return Reply.ok(new Forgotten(id.toString()));
    }

    /** {@code {"strategy": "seda"}} pins the connection to seda, {@code {"strategy": null}} removes its pin. */
    private Reply pin(Exchange x, PinBody body) {
        NodeId id = x.nodeId("uuid");
        if (!body.strategyGiven) {
            throw ApiException.badRequest("strategy is missing (a strategy name, or null to remove the pin)");
        }
        StrategyControl control = require(strategyControl, "the strategy manager");
        String strategy = body.strategy;
        SwapResult result = strategy == null ? StrategyJson.call(() -> control.unpin(id), "strategy")
                : StrategyJson.call(() -> control.pin(id, strategy), "strategy");
        return Reply.ok(SwapJson.of(result));
    }

    private Reply unpin(Exchange x) {
        NodeId id = x.nodeId("uuid");
        StrategyControl control = require(strategyControl, "the strategy manager");
        return Reply.ok(SwapJson.of(StrategyJson.call(() -> control.unpin(id), "strategy")));
    }

    private StatsJson stats() {
        RoutingService r = require(routing, "the routing service");
        Map<String, CountersJson> peers = new TreeMap<>();
        transport.perPeer().forEach((id, c) -> peers.put(id.toString(), CountersJson.of(c)));
        RoutingService.Stats rs = r.stats();
        return new StatsJson(CountersJson.of(transport.total()), peers,
                new RoutingStatsJson(rs.messagesForwarded(), rs.messagesDropped(), rs.loopsDetected()));
    }
}
