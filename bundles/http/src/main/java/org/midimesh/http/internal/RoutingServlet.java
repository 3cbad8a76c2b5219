package org.midimesh.http.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.midimesh.api.LocalNode;
import org.midimesh.api.NodeId;
import org.midimesh.api.midi.MessageType;
import org.midimesh.api.routing.Route;
import org.midimesh.api.routing.RouteEndpoint;
import org.midimesh.api.routing.RouteRequest;
import org.midimesh.api.routing.RoutingService;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletName;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import com.fasterxml.jackson.annotation.JsonInclude;

import jakarta.servlet.Servlet;

/**
 * The {@code /routing} area: list, create, read, change and delete routes. Validation beyond the JSON shape is the
 * routing service's; its {@link IllegalArgumentException}s become 400. Requests run on Jetty threads.
 */
@Component(service = Servlet.class, property = NodeServlet.API_PROPERTY + "=routing")
@HttpWhiteboardServletPattern("/routing/*")
@HttpWhiteboardServletName("midimesh-routing")
public class RoutingServlet extends ApiServlet {

    private static final long serialVersionUID = 1L;

    /** Longest route id looked up; anything longer cannot exist. */
    static final int MAX_ROUTE_ID = 128;

    private final LocalNode node;
    private final RoutingService routing;

    record EndpointJson(String nodeId, Integer deviceId) {
    }

    record StatisticsJson(long messagesForwarded, long messagesDropped) {
    }

    /** A route; {@code message_types} is left out when every type passes, {@code orphaned_reason} unless orphaned. */
    record RouteJson(String routeId, boolean enabled, int priority, EndpointJson source, EndpointJson destination,
            int channelFilter, @JsonInclude(JsonInclude.Include.NON_NULL) List<String> messageTypes,
            boolean orphaned, @JsonInclude(JsonInclude.Include.NON_NULL) String orphanedReason,
            StatisticsJson statistics) {
    }

    record RouteList(List<RouteJson> routes, int total, int enabled, int disabled) {
    }

    record CreateBody(EndpointJson source, EndpointJson destination, Boolean enabled, Integer priority,
            Integer channelFilter, List<String> messageTypes) {
    }

    /** PUT may change only these; any other field is a 400 naming it. */
    record UpdateBody(Boolean enabled, Integer priority, Integer channelFilter, List<String> messageTypes) {
    }

    record Deleted(String deleted) {
    }

    @Activate
    public RoutingServlet(@Reference(name = "localNode") LocalNode node,
            @Reference(name = "routing") RoutingService routing) {
        this.node = node;
        this.routing = routing;
        get("/routing/routes", x -> Reply.ok(list()));
        withBody("POST", "/routing/routes", true, CreateBody.class, this::create);
        get("/routing/routes/{id}", x -> Reply.ok(json(find(x))));
        withBody("PUT", "/routing/routes/{id}", true, UpdateBody.class, this::update);
        delete("/routing/routes/{id}", this::delete);
    }

    @Override
    protected LocalNode adminNode() {
        return node;
    }

    private RouteList list() {
        List<RouteJson> routes = new ArrayList<>();
        int enabled = 0;
        for (Route r : routing.routes()) {
            routes.add(json(r));
            if (r.enabled()) {
                enabled++;
            }
        }
        return new RouteList(routes, routes.size(), enabled, routes.size() - enabled);
    }

    private static String routeId(Exchange x) {
        String id = x.path("id");
        if (id.length() > MAX_ROUTE_ID) {
            throw ApiException.notFound("no route with id " + Exchange.clip(id));
        }
        return id;
    }

    private Route find(Exchange x) {
        String id = routeId(x);
        return routing.get(id).orElseThrow(() -> ApiException.notFound("no route with id " + id));
    }

    private Reply create(Exchange x, CreateBody body) {
        RouteEndpoint source = endpoint(body.source(), "source");
        RouteEndpoint destination = endpoint(body.destination(), "destination");
        RouteRequest request = new RouteRequest(Optional.of(source), Optional.of(destination),
                Optional.ofNullable(body.enabled()), Optional.ofNullable(body.priority()),
                Optional.ofNullable(body.channelFilter()), messageTypes(body.messageTypes()));
        try {
            return new Reply(201, json(routing.create(request)));
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
    }

    private Reply update(Exchange x, UpdateBody body) {
        String id = routeId(x);
        RouteRequest request = new RouteRequest(Optional.empty(), Optional.empty(),
                Optional.ofNullable(body.enabled()), Optional.ofNullable(body.priority()),
                Optional.ofNullable(body.channelFilter()), messageTypes(body.messageTypes()));
        Optional<Route> updated;
        try {
            updated = routing.update(id, request);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
        return Reply.ok(json(updated.orElseThrow(() -> ApiException.notFound("no route with id " + id))));
    }

    private Reply delete(Exchange x) {
        String id = routeId(x);
        if (!routing.delete(id)) {
            throw ApiException.notFound("no route with id " + id);
        }
        return Reply.ok(new Deleted(id));
    }

    /** {@code node_id} is "local", a dashed UUID or 32 hex digits; {@code device_id} 1..65535. */
    private RouteEndpoint endpoint(EndpointJson e, String field) {
        if (e == null) {
            throw ApiException.badRequest(field + " is missing");
        }
        if (e.nodeId() == null) {
            throw ApiException.badRequest(field + ".node_id is missing (\"local\" means this node)");
        }
        NodeId nodeId;
        if (e.nodeId().equals("local")) {
            nodeId = node.id();
        } else {
            try {
                nodeId = NodeId.parse(e.nodeId());
            } catch (IllegalArgumentException ex) {
                throw ApiException.badRequest(field + ".node_id must be \"local\", a UUID or 32 hex digits, not \""
                        + Exchange.clip(e.nodeId()) + "\"");
            }
        }
        if (e.deviceId() == null) {
            throw ApiException.badRequest(field + ".device_id is missing");
        }
        if (e.deviceId() < 1 || e.deviceId() > 0xffff) {
            throw ApiException.badRequest(field + ".device_id must be 1..65535, not " + e.deviceId());
        }
        return new RouteEndpoint(nodeId, e.deviceId());
    }

    /** Absent stays absent; an empty list means all types. */
    private static Optional<Set<MessageType>> messageTypes(List<String> names) {
        if (names == null) {
            return Optional.empty();
        }
        Set<MessageType> types = EnumSet.noneOf(MessageType.class);
        for (int i = 0; i < names.size(); i++) {
            String n = names.get(i);
            try {
                types.add(MessageType.fromWireName(n));
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("message_types[" + i + "] must be one of note_off, note_on,"
                        + " poly_aftertouch, control_change, program_change, channel_aftertouch, pitch_bend, system;"
                        + " not " + (n == null ? "null" : "\"" + Exchange.clip(n) + "\""));
            }
        }
        return Optional.of(types);
    }

    static RouteJson json(Route r) {
        List<String> types = null;
        if (!r.messageTypes().isEmpty()) {
            types = r.messageTypes().stream().sorted(Comparator.naturalOrder()).map(MessageType::wireName).toList();
        }
        return new RouteJson(r.id(), r.enabled(), r.priority(), endpointJson(r.source()),
                endpointJson(r.destination()), r.channelFilter(), types, r.orphaned(),
                r.orphaned() ? r.orphanedReason() : null, new StatisticsJson(r.messagesForwarded(), r.messagesDropped()));
    }

    private static EndpointJson endpointJson(RouteEndpoint e) {
        return new EndpointJson(e.node().toString(), e.deviceId());
    }
}
