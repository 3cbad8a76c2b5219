package org.midimesh.http.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.midimesh.api.LocalNode;
import org.midimesh.api.devices.DeviceRegistry;
import org.midimesh.api.health.BundleProblems;
import org.midimesh.api.mesh.Mesh;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.annotation.JsonInclude;

import jakarta.servlet.Servlet;

/**
 * {@code GET /health} and {@code GET /node/info}. Registered as soon as the bundle starts (every reference is optional
 * and dynamic), so health answers 503 "down" while a service is missing, and 200 "degraded" while the strategy
 * manager cannot run connections as configured; the node waits for this servlet through its
 * {@value #API_PROPERTY}={@code health} property. Requests run on Jetty threads.
 */
@Component(service = Servlet.class, property = NodeServlet.API_PROPERTY + "=health")
@HttpWhiteboardServletPattern({"/health", "/node/*"})
@HttpWhiteboardServletName("midimesh-node")
public class NodeServlet extends ApiServlet {

    private static final long serialVersionUID = 1L;

    private static final Logger LOG = LoggerFactory.getLogger(NodeServlet.class);

    /** Service property naming the API area of a servlet. */
    static final String API_PROPERTY = "midimesh.api";

    // Each reference below: written by SCR on bind/unbind (DYNAMIC), read once per request on Jetty threads; the
    // volatile write publishes the fully constructed service. null while the service is missing.
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile LocalNode localNode;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile DeviceRegistry registry;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile Mesh mesh;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile RoutingService routing;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile TransportStats transport;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile StrategyControl strategyControl;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile BundleProblems bundleProblems;

    /**
     * GET /health; {@code reason} only while degraded (the strategy manager's reason, bundles that do not resolve),
     * {@code problems} only while a bundle does not resolve.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Health(String status, Map<String, String> checks, String reason, List<ProblemJson> problems) {
    }

    /** A bundle that does not resolve. */
    record ProblemJson(String bundle, String location, String reason) {
    }

    /** GET /node/info. */
    record Info(String uuid, String name, String hostname, String version, int httpPort, int udpPort, int tcpPort,
            long uptimeSeconds, int localDevices, int totalDevices, String strategy) {
    }

    public NodeServlet() {
        get("/health", x -> health());
        get("/node/info", x -> info(x.request().getLocalPort()));
    }

    @Override
    protected LocalNode adminNode() {
        return localNode;
    }

    private Reply health() {
        Map<String, String> checks = new LinkedHashMap<>();
        checks.put("local_node", upOrDown(localNode));
        checks.put("device_registry", upOrDown(registry));
        checks.put("mesh", upOrDown(mesh));
        checks.put("routing", upOrDown(routing));
        checks.put("transport", upOrDown(transport));
        StrategyControl control = strategyControl;
        String degraded = null;
        if (control == null) {
            checks.put("strategy", "down");
        } else {
            try {
                degraded = control.status().degraded().orElse(null);
                checks.put("strategy", degraded == null ? "up" : "degraded");
            } catch (RuntimeException e) {
                // the manager is going away under us: as if it were already gone; health never answers 500
                LOG.debug("strategy manager status failed; reported as down", e);
                checks.put("strategy", "down");
            }
        }
        List<ProblemJson> problems = null;
        BundleProblems bp = bundleProblems;
        if (bp != null) {
            List<BundleProblems.Problem> found = bp.problems();
            checks.put("plugins", found.isEmpty() ? "up" : "degraded");
            if (!found.isEmpty()) {
                problems = found.stream().map(p -> new ProblemJson(p.bundle(), p.location(), p.reason())).toList();
                String plugins = found.size() == 1
                        ? "bundle " + found.get(0).bundle() + " does not resolve: " + found.get(0).reason()
                        : found.size() + " bundles do not resolve (see problems)";
                degraded = degraded == null ? plugins : degraded + "; " + plugins;
            }
        }
        boolean down = checks.containsValue("down");
        String status = down ? "down" : degraded != null ? "degraded" : "up";
        return new Reply(down ? 503 : 200, new Health(status, checks, degraded, problems));
    }

    private static String upOrDown(Object service) {
        return service != null ? "up" : "down";
    }

    private Reply info(int requestLocalPort) {
        LocalNode node = require(localNode, "the local node");
        DeviceRegistry devices = require(registry, "the device registry");
        Mesh m = require(mesh, "the mesh");
        TransportStats t = transport;
        int local = devices.devices().size();
        int remote = m.remoteDevices().size();
        int httpPort = node.httpPort() > 0 ? node.httpPort() : requestLocalPort;
        int udpPort = node.udpPort() > 0 || t == null ? node.udpPort() : t.udpPort();
        long uptime = Math.max(0, Duration.between(node.startedAt(), Instant.now()).getSeconds());
        String strategy = Optional.ofNullable(strategyControl).map(c -> c.status().defaultStrategy()).orElse(null);
        return Reply.ok(new Info(node.id().toString(), node.name(), node.hostname(), node.version(), httpPort, udpPort,
                node.tcpPort(), uptime, local, local + remote, strategy));
    }
}
