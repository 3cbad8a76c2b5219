package org.midimesh.http.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.ToLongFunction;

import org.midimesh.api.LocalNode;
import org.midimesh.api.NodeId;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.mesh.Mesh;
import org.midimesh.api.routing.Route;
import org.midimesh.api.routing.RoutingService;
import org.midimesh.api.strategy.StrategyControl;
import org.midimesh.api.transport.TransportStats;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletName;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import jakarta.servlet.Servlet;

/**
 * {@code GET /metrics}: everything {@code /debug} and {@code /network/stats} show, in the Prometheus text exposition
 * format 0.0.4 (written by {@link PrometheusText}). Every reference is optional, so a scrape always answers 200 with
 * what is there; {@code midimesh_service_up} tells which sources were missing. Per-strategy totals come from
 * {@link StrategyControl#metricsByStrategy()}. Node totals and per-peer values are separate families
 * ({@code midimesh_*} and {@code midimesh_peer_*}) so that no sum over a family counts twice. Requests run on Jetty
 * threads.
 */
@Component(service = Servlet.class, property = NodeServlet.API_PROPERTY + "=metrics")
@HttpWhiteboardServletPattern("/metrics")
@HttpWhiteboardServletName("midimesh-metrics")
public class MetricsServlet extends ApiServlet {

    private static final long serialVersionUID = 1L;

    private static final String[] QUANTILES = {"0.5", "0.99", "0.999"};

    // Each reference below: written by SCR on bind/unbind (DYNAMIC), read once per request on Jetty threads; the
    // volatile write publishes the fully constructed service. null while the service is missing.
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile LocalNode localNode;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile Mesh mesh;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile TransportStats transport;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile RoutingService routing;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile StrategyControl strategyControl;

    /** One live connection with a known peer, read once. */
    private record PeerSample(NodeId peer, String strategy, ConnectionState state, ConnectionMetrics metrics) {
    }

    /** One metric of {@link ConnectionMetrics} as a counter or gauge. */
    private record Field(String suffix, PrometheusText.Type type, String help, ToLongFunction<ConnectionMetrics> get) {
    }

    private static final List<Field> COUNTS = List.of(
            new Field("queries_total", PrometheusText.Type.COUNTER,
                    "Queries answered (state, remote node, devices, heartbeat age, ...)",
                    ConnectionMetrics::totalQueries),
            new Field("mutex_contentions_total", PrometheusText.Type.COUNTER,
                    "Queries that found the lock taken (0 for a lock-free strategy)",
                    ConnectionMetrics::mutexContentions),
            new Field("callbacks_dispatched_total", PrometheusText.Type.COUNTER, "Listener calls made",
                    ConnectionMetrics::callbacksDispatched),
            new Field("commands_processed_total", PrometheusText.Type.COUNTER,
                    "Commands run by the owning worker (0 without a command queue)",
                    ConnectionMetrics::commandsProcessed),
            new Field("errors_total", PrometheusText.Type.COUNTER,
                    "Error callbacks (handshake failures, heartbeat timeouts, dropped commands)",
                    ConnectionMetrics::errors),
            new Field("dropped_messages_total", PrometheusText.Type.COUNTER,
                    "MIDI frames refused or lost (not connected, queue full, closed)",
                    ConnectionMetrics::droppedMessages),
            new Field("stalls_total", PrometheusText.Type.COUNTER,
                    "Times a connection could not go on within its own bound (a lock wait that timed out, a query "
                            + "its worker did not answer in time, a command backlog beyond its bound)",
                    ConnectionMetrics::stalls),
            new Field("queue_depth", PrometheusText.Type.GAUGE, "Commands waiting now (0 without a queue)",
                    ConnectionMetrics::queueDepth));

    public MetricsServlet() {
        get("/metrics", x -> Reply.ok(new ApiResponses.Raw(PrometheusText.CONTENT_TYPE, exposition().bytes())));
    }

    /** Nothing here mutates. */
    @Override
    protected LocalNode adminNode() {
        return null;
    }

    /** Reads every source once, then writes. */
    PrometheusText exposition() {
        LocalNode node = localNode;
        Mesh m = mesh;
        TransportStats t = transport;
        RoutingService r = routing;
        StrategyControl sc = strategyControl;
        PrometheusText out = new PrometheusText();

        Map<String, Object> sources = new LinkedHashMap<>();
        sources.put("local_node", node);
        sources.put("mesh", m);
        sources.put("transport", t);
        sources.put("routing", r);
        sources.put("strategy", sc);
        out.family("midimesh_service_up", PrometheusText.Type.GAUGE,
                "1 when the service this exposition reads is available, 0 when its metrics are missing here");
        sources.forEach((name, service) -> out.sample(service != null ? 1 : 0, "service", name));

        if (node != null) {
            out.family("midimesh_node_info", PrometheusText.Type.GAUGE, "This node's identity; always 1")
                    .sample(1, "uuid", node.id().toString(), "name", node.name(), "version", node.version());
            out.family("midimesh_node_start_time_seconds", PrometheusText.Type.GAUGE,
                    "When this node started, in seconds since the Unix epoch")
                    .sample(node.startedAt().toEpochMilli() / 1000.0);
        }

        SortedMap<String, ConnectionMetrics> perStrategy = MetricsJson.byStrategy(sc);
        writeStrategies(out, perStrategy);
        if (m != null) {
            writeConnections(out, m.connections(), perStrategy.keySet());
        }
        if (t != null) {
            writeTransport(out, t);
        }
        if (r != null) {
            writeRouting(out, r);
        }
        return out;
    }

    private static void writeStrategies(PrometheusText out, SortedMap<String, ConnectionMetrics> perStrategy) {
        for (Field f : COUNTS) {
            out.family("midimesh_connection_" + f.suffix, f.type, f.help + (f.type == PrometheusText.Type.COUNTER
                    ? ", per strategy, over every connection it made since it started (closed ones included)"
                    : ", per strategy, over its live connections"));
            perStrategy.forEach((name, cm) -> out.sample(f.get.applyAsLong(cm), "strategy", name));
        }
        out.family("midimesh_connection_contention_percent", PrometheusText.Type.GAUGE,
                "Share of queries that met contention, in percent, per strategy, since it started");
        perStrategy.forEach((name, cm) -> out.sample(cm.contentionPercent(), "strategy", name));
        out.family("midimesh_connection_query_latency_ns", PrometheusText.Type.SUMMARY,
                "Sampled query latency in nanoseconds, per strategy (no _sum: only percentiles are kept; NaN "
                        + "before the first sample)");
        perStrategy.forEach((name, cm) -> writeLatency(out, cm.queryLatency(), "strategy", name));
        out.family("midimesh_connection_query_latency_max_ns", PrometheusText.Type.GAUGE,
                "Largest sampled query latency in nanoseconds, per strategy (NaN before the first sample)");
        perStrategy.forEach((name, cm) -> out.sample(max(cm.queryLatency()), "strategy", name));
    }

    /** Quantiles are NaN while nothing was sampled (as Prometheus client summaries do), not a latency of 0 ns. */
    private static void writeLatency(PrometheusText out, ConnectionMetrics.LatencySummary l, String... labels) {
        long[] values = {l.p50Ns(), l.p99Ns(), l.p999Ns()};
        for (int i = 0; i < QUANTILES.length; i++) {
            String[] withQuantile = Arrays.copyOf(labels, labels.length + 2);
            withQuantile[labels.length] = "quantile";
            withQuantile[labels.length + 1] = QUANTILES[i];
            out.sample(l.count() == 0 ? Double.NaN : values[i], withQuantile);
        }
        out.summaryCount(l.count(), labels);
    }

    /** The largest sample, NaN while nothing was sampled. */
    private static double max(ConnectionMetrics.LatencySummary l) {
        return l.count() == 0 ? Double.NaN : l.maxNs();
    }

    private static void writeConnections(PrometheusText out, List<NetworkConnection> connections,
            Set<String> availableStrategies) {
        // counts by strategy and state; every available strategy and every state is listed, zeros included
        SortedMap<String, Map<ConnectionState, Integer>> counts = new TreeMap<>();
        for (String s : availableStrategies) {
            counts.put(s, new LinkedHashMap<>());
        }
        List<PeerSample> peers = new ArrayList<>();
        Set<NodeId> seen = new HashSet<>();
        for (NetworkConnection c : connections) {
            String strategy = c.strategy();
            ConnectionState state = c.getState();
            counts.computeIfAbsent(strategy, k -> new LinkedHashMap<>()).merge(state, 1, Integer::sum);
            Optional<NodeId> id = c.getRemoteId();
            // one series per peer; a second connection to the same peer (a dial race) is counted above only
            if (id.isPresent() && seen.add(id.get())) {
                peers.add(new PeerSample(id.get(), strategy, state, c.metrics()));
            }
        }
        peers.sort((a, b) -> a.peer.compareTo(b.peer));
        out.family("midimesh_connections", PrometheusText.Type.GAUGE,
                "Live connections by strategy and state");
        counts.forEach((strategy, byState) -> {
            for (ConnectionState s : ConnectionState.values()) {
                out.sample(byState.getOrDefault(s, 0), "strategy", strategy, "state", s.wireName());
            }
        });

        out.family("midimesh_peer_connection_state", PrometheusText.Type.GAUGE,
                "1 for the state the connection to the peer is in, 0 for the others");
        for (PeerSample p : peers) {
            for (ConnectionState s : ConnectionState.values()) {
                out.sample(p.state == s ? 1 : 0, "peer", p.peer.toString(), "state", s.wireName());
            }
        }
        for (Field f : COUNTS) {
            out.family("midimesh_peer_connection_" + f.suffix, f.type, f.help + (f.type == PrometheusText.Type.COUNTER
                    ? ", of the live connection to the peer (starts anew when it moves to another strategy)"
                    : ", of the live connection to the peer"));
            for (PeerSample p : peers) {
                out.sample(f.get.applyAsLong(p.metrics), "peer", p.peer.toString(), "strategy", p.strategy);
            }
        }
        out.family("midimesh_peer_connection_contention_percent", PrometheusText.Type.GAUGE,
                "Share of queries that met contention, in percent, of the live connection to the peer");
        for (PeerSample p : peers) {
            out.sample(p.metrics.contentionPercent(), "peer", p.peer.toString(), "strategy", p.strategy);
        }
        out.family("midimesh_peer_connection_query_latency_ns", PrometheusText.Type.SUMMARY,
                "Sampled query latency in nanoseconds of the live connection to the peer (no _sum; NaN before "
                        + "the first sample)");
        for (PeerSample p : peers) {
            writeLatency(out, p.metrics.queryLatency(), "peer", p.peer.toString(), "strategy", p.strategy);
        }
        out.family("midimesh_peer_connection_query_latency_max_ns", PrometheusText.Type.GAUGE,
                "Largest sampled query latency in nanoseconds of the live connection to the peer");
        for (PeerSample p : peers) {
            out.sample(max(p.metrics.queryLatency()), "peer", p.peer.toString(), "strategy", p.strategy);
        }
    }

    /** One counter of {@link TransportStats.Counters}. */
    private record TransportField(String name, String help, ToLongFunction<TransportStats.Counters> get) {
    }

    private static final List<TransportField> TRANSPORT = List.of(
            new TransportField("datagrams_in_total", "Datagrams received", TransportStats.Counters::datagramsIn),
            new TransportField("datagrams_out_total", "Datagrams sent", TransportStats.Counters::datagramsOut),
            new TransportField("bytes_in_total", "Datagram bytes received", TransportStats.Counters::bytesIn),
            new TransportField("bytes_out_total", "Datagram bytes sent", TransportStats.Counters::bytesOut),
            new TransportField("datagrams_malformed_total",
                    "Datagrams dropped as truncated, of another version or of unknown type",
                    TransportStats.Counters::malformed),
            new TransportField("realtime_drops_total", "Realtime MIDI messages dropped",
                    TransportStats.Counters::realtimeDrops),
            new TransportField("reliable_retries_total", "Resends on the reliable channel",
                    TransportStats.Counters::reliableRetries));

    private static void writeTransport(PrometheusText out, TransportStats t) {
        TransportStats.Counters total = t.total();
        SortedMap<NodeId, TransportStats.Counters> perPeer = new TreeMap<>(t.perPeer());
        for (TransportField f : TRANSPORT) {
            out.family("midimesh_" + f.name, PrometheusText.Type.COUNTER, f.help + ", this node in total")
                    .sample(f.get.applyAsLong(total));
        }
        for (TransportField f : TRANSPORT) {
            out.family("midimesh_peer_" + f.name, PrometheusText.Type.COUNTER, f.help + ", per peer");
            perPeer.forEach((peer, c) -> out.sample(f.get.applyAsLong(c), "peer", peer.toString()));
        }
    }

    private static void writeRouting(PrometheusText out, RoutingService r) {
        RoutingService.Stats s = r.stats();
        out.family("midimesh_routing_messages_forwarded_total", PrometheusText.Type.COUNTER,
                "MIDI messages forwarded by routes").sample(s.messagesForwarded());
        out.family("midimesh_routing_messages_dropped_total", PrometheusText.Type.COUNTER,
                "MIDI messages dropped by routes").sample(s.messagesDropped());
        out.family("midimesh_routing_loops_detected_total", PrometheusText.Type.COUNTER,
                "Messages stopped because they looped (over 8 hops)").sample(s.loopsDetected());
        long enabled = 0;
        long disabled = 0;
        for (Route route : r.routes()) {
            if (route.enabled()) {
                enabled++;
            } else {
                disabled++;
            }
        }
        out.family("midimesh_routes", PrometheusText.Type.GAUGE, "Routes of this node, enabled or not")
                .sample(enabled, "enabled", "true").sample(disabled, "enabled", "false");
    }
}
