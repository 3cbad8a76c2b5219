package org.midimesh.http.internal;

import java.util.Locale;

import org.midimesh.api.LocalNode;
import org.midimesh.api.NodeId;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.mesh.Mesh;
import org.midimesh.api.strategy.StrategyControl;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletName;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import jakarta.servlet.Servlet;

/**
 * The {@code /debug} area, read-only: connection metrics (workplan Appendix C) summed over the connection strategies
 * and per live connection. The per-strategy totals come from {@link StrategyControl#metricsByStrategy()} (optional:
 * without the strategy manager that part is empty); the mesh is required. Requests run on Jetty threads.
 */
@Component(service = Servlet.class, property = NodeServlet.API_PROPERTY + "=debug")
@HttpWhiteboardServletPattern("/debug/*")
@HttpWhiteboardServletName("midimesh-debug")
public class DebugServlet extends ApiServlet {

    private static final long serialVersionUID = 1L;

    private final Mesh mesh;

    // Written by SCR on bind/unbind, read once per request on Jetty threads; the volatile write publishes the fully
    // constructed service. null while the strategy manager is missing (per_strategy is then empty).
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile StrategyControl strategyControl;

    @Activate
    public DebugServlet(@Reference(name = "mesh") Mesh mesh) {
        this.mesh = mesh;
        get("/debug/metrics", x -> Reply.ok(MetricsJson.debugMetrics(MetricsJson.byStrategy(strategyControl),
                mesh.connections())));
        get("/debug/connection/{uuid}/metrics", this::connection);
    }

    /** Nothing here mutates. */
    @Override
    protected LocalNode adminNode() {
        return null;
    }

    private Reply connection(Exchange x) {
        if (x.path("uuid").toLowerCase(Locale.ROOT).equals("local")) {
            throw ApiException.notFound("\"local\" is this node, not a connection: use a peer's node id");
        }
        NodeId id = x.nodeId("uuid");
        NetworkConnection c = mesh.connection(id)
                .orElseThrow(() -> ApiException.notFound("no connection to node " + id));
        return Reply.ok(MetricsJson.connection(id, c));
    }
}
