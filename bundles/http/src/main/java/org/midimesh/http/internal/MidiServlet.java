package org.midimesh.http.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.midimesh.api.DeviceType;
import org.midimesh.api.LocalNode;
import org.midimesh.api.devices.DeviceRegistry;
import org.midimesh.api.devices.DeviceStatus;
import org.midimesh.api.devices.LocalDevice;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.virtual.ReceivedLog;
import org.midimesh.api.virtual.VirtualPorts;
import org.midimesh.api.mesh.Mesh;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.routing.Route;
import org.midimesh.api.routing.RouteEndpoint;
import org.midimesh.api.routing.RoutingService;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletName;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import com.fasterxml.jackson.annotation.JsonInclude;

import jakarta.servlet.Servlet;

/**
 * The {@code /midi} area: device list, virtual ports, sending MIDI to a local device and reading what a virtual
 * output received. Requests run on Jetty threads.
 */
@Component(service = Servlet.class, property = NodeServlet.API_PROPERTY + "=midi")
@HttpWhiteboardServletPattern("/midi/*")
@HttpWhiteboardServletName("midimesh-midi")
public class MidiServlet extends ApiServlet {

    private static final long serialVersionUID = 1L;

    static final int MAX_MESSAGES = 10_000;
    static final int DEFAULT_LIMIT = 1000;
    static final int MAX_NAME_LENGTH = 128;

    private final LocalNode node;
    private final DeviceRegistry registry;

    // Dynamic references: written by SCR on bind/unbind, read once per request on Jetty threads; the volatile write
    // publishes the fully constructed service. null while the service is missing: the endpoints that need it say 503.
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile VirtualPorts virtualPorts;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile Mesh mesh;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile RoutingService routing;

    /**
     * A device in {@code /midi/devices}. Local devices also say whether they can be used now (and why not), and
     * outputs how many messages were dropped and are queued; these are left out for remote devices.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record DeviceJson(int id, String name, String type, String driver, boolean isLocal, String ownerNode,
            String ownerName, Boolean available, String unavailableReason, Long dropped, Integer queued) {
    }

    record DeviceList(List<DeviceJson> devices) {
    }

    record SendBody(List<String> messages) {
    }

    record Accepted(int accepted) {
    }

    record VirtualPortBody(String name, String type) {
    }

    record Deleted(int deleted, List<String> orphanedRoutes) {
    }

    record ReceivedJson(long seq, String data, long receivedAtUs, String sourceNode) {
    }

    record ReceivedPage(int deviceId, long total, long next, List<ReceivedJson> messages) {
    }

    @Activate
    public MidiServlet(@Reference(name = "localNode") LocalNode node,
            @Reference(name = "registry") DeviceRegistry registry) {
        this.node = node;
        this.registry = registry;
        get("/midi/devices", x -> Reply.ok(new DeviceList(devices())));
        withBody("POST", "/midi/devices/{id}/send", true, SendBody.class, this::send);
        get("/midi/devices/{id}/received", this::received);
        withBody("POST", "/midi/virtual-ports", true, VirtualPortBody.class, this::createVirtualPort);
        delete("/midi/virtual-ports/{id}", this::deleteVirtualPort);
    }

    @Override
    protected LocalNode adminNode() {
        return node;
    }

    private List<DeviceJson> devices() {
        List<DeviceJson> out = new ArrayList<>();
        for (LocalDevice d : registry.devices()) {
            out.add(localJson(d));
        }
        Mesh m = mesh;
        if (m != null) {
            for (Mesh.RemoteDevice r : m.remoteDevices()) {
                out.add(new DeviceJson(r.device().id(), r.device().name(), r.device().type().wireName(), "remote",
                        false, r.node().toString(), r.nodeName(), null, null, null, null));
            }
        }
        return out;
    }

    private DeviceJson localJson(LocalDevice d) {
        Optional<DeviceStatus> s = registry.status(d.id());
        boolean available = s.map(DeviceStatus::available).orElse(false);
        String reason = available ? null : s.map(DeviceStatus::reason).orElse("the device is gone");
        boolean output = d.type() == DeviceType.OUTPUT;
        return new DeviceJson(d.id(), d.name(), d.type().wireName(), d.driver(), true, node.id().toString(),
                node.name(), available, reason, output ? s.map(DeviceStatus::dropped).orElse(0L) : null,
                output ? s.map(DeviceStatus::queued).orElse(0) : null);
    }

    private LocalDevice localDevice(int id) {
        return registry.find(id).orElseThrow(() -> ApiException.notFound("no local device with id " + id));
    }

    private Reply send(Exchange x, SendBody body) {
        int id = x.deviceId("id");
        List<String> texts = body.messages();
        if (texts == null) {
            throw ApiException.badRequest("messages is missing");
        }
        if (texts.isEmpty() || texts.size() > MAX_MESSAGES) {
            throw ApiException.badRequest("messages must hold 1.." + MAX_MESSAGES + " messages, not " + texts.size());
        }
        localDevice(id);
        List<MidiMessage> messages = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            try {
                messages.add(MidiMessage.parseHex(texts.get(i)));
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("messages[" + i + "]: " + e.getMessage());
            }
        }
        try {
            registry.send(id, messages);
        } catch (NoSuchElementException e) {
            throw ApiException.notFound("no local device with id " + id);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
        return new Reply(202, new Accepted(messages.size()));
    }

    private Reply received(Exchange x) {
        int id = x.deviceId("id");
        long after = x.queryLong("after", 0, 0, Long.MAX_VALUE);
        int limit = (int) x.queryLong("limit", DEFAULT_LIMIT, 1, ReceivedLog.CAPACITY);
        LocalDevice d = localDevice(id);
        if (d.type() == DeviceType.INPUT) {
            throw ApiException.badRequest("device " + id + " is an input; only outputs receive messages");
        }
        Optional<MidiPort> port = registry.port(id);
        if (port.isEmpty() || !(port.get() instanceof ReceivedLog log)) {
            throw ApiException.notFound("device " + id + " keeps no log of received messages (only virtual outputs"
                    + " do)");
        }
        ReceivedLog.Page page = log.read(after, limit);
        List<ReceivedJson> messages = new ArrayList<>(page.messages().size());
        for (ReceivedLog.Received r : page.messages()) {
            messages.add(new ReceivedJson(r.seq(), r.message().toHex(), r.receivedAtMicros(),
                    r.sourceNode() == null ? null : r.sourceNode().toString()));
        }
        return Reply.ok(new ReceivedPage(id, page.total(), page.next(), messages));
    }

    private Reply createVirtualPort(Exchange x, VirtualPortBody body) {
        VirtualPorts ports = require(virtualPorts, "the virtual MIDI driver");
        String name = body.name();
        if (name == null) {
            throw ApiException.badRequest("name is missing");
        }
        if (name.isBlank() || name.length() > MAX_NAME_LENGTH || name.strip().length() != name.length()
                || name.chars().anyMatch(Character::isISOControl)) {
            throw ApiException.badRequest("name must be 1.." + MAX_NAME_LENGTH
                    + " characters without control characters or surrounding white space");
        }
        if (body.type() == null) {
            throw ApiException.badRequest("type is missing");
        }
        DeviceType type;
        try {
            type = DeviceType.fromWireName(body.type());
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("type must be \"input\" or \"output\", not \"" + Exchange.clip(body.type())
                    + "\"");
        }
        if (ports.find(name, type).isPresent()) {
            throw ApiException.conflict("a virtual " + type.wireName() + " named \"" + name + "\" exists");
        }
        MidiPort port;
        try {
            port = ports.create(name, type);
        } catch (IllegalArgumentException e) {
            if (ports.find(name, type).isPresent()) {
                throw ApiException.conflict("a virtual " + type.wireName() + " named \"" + name + "\" exists");
            }
            throw ApiException.badRequest(e.getMessage());
        }
        LocalDevice created = awaitDevice(port);
        return new Reply(201, localJson(created));
    }

    /**
     * The registry learns of a new port before {@link VirtualPorts#create} returns; this bounded wait only covers a
     * registry that registers it asynchronously.
     */
    private LocalDevice awaitDevice(MidiPort port) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (true) {
            for (LocalDevice d : registry.devices()) {
                if (registry.port(d.id()).orElse(null) == port) {
                    return d;
                }
            }
            if (System.nanoTime() - deadline > 0 || Thread.currentThread().isInterrupted()) {
                throw new IllegalStateException("virtual port " + port.name() + " was created but has no device id");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }

    private Reply deleteVirtualPort(Exchange x) {
        int id = x.deviceId("id");
        VirtualPorts ports = require(virtualPorts, "the virtual MIDI driver");
        RoutingService routes = require(routing, "the routing service");
        LocalDevice d = localDevice(id);
        MidiPort port = registry.port(id).orElseThrow(() -> ApiException.notFound("no local device with id " + id));
        if (!ports.owns(port)) {
            throw ApiException.notFound("device " + id + " is not a virtual port (driver " + d.driver() + ")");
        }
        if (ports.isDefault(port)) {
            throw ApiException.conflict("device " + id + " (\"" + d.name() + "\") is a default port of this node"
                    + " and cannot be deleted");
        }
        RouteEndpoint endpoint = new RouteEndpoint(node.id(), id);
        List<String> orphaned = new ArrayList<>();
        for (Route r : routes.routes()) {
            if (r.source().equals(endpoint) || r.destination().equals(endpoint)) {
                orphaned.add(r.id());
            }
        }
        boolean deleted;
        try {
            deleted = ports.delete(d.name(), d.type());
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw ApiException.conflict(e.getMessage());
        }
        if (!deleted) {
            throw ApiException.notFound("no virtual port with id " + id);
        }
        return Reply.ok(new Deleted(id, orphaned));
    }

}
