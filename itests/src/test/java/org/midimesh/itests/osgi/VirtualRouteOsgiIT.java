package org.midimesh.itests.osgi;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.midimesh.api.DeviceType;
import org.midimesh.api.LocalNode;
import org.midimesh.api.devices.DeviceRegistry;
import org.midimesh.api.devices.LocalDevice;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.virtual.ReceivedLog;
import org.midimesh.api.virtual.VirtualPorts;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.routing.Route;
import org.midimesh.api.routing.RouteEndpoint;
import org.midimesh.api.routing.RouteRequest;
import org.midimesh.api.routing.RoutingService;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.ops4j.pax.exam.util.Filter;
import org.osgi.framework.BundleContext;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * MIDI through a route between two virtual ports of one node inside Felix: once over the HTTP API (as a loopback
 * client), once through the services directly. Each test makes its own ports, so they do not depend on each other.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class VirtualRouteOsgiIT {

    private static final Duration SETTLE = Duration.ofSeconds(30);
    private static final Duration DELIVERY = Duration.ofSeconds(10);
    private static final List<String> SENT = List.of("90 3c 64", "80 3c 00");
    private static final List<String> EXPECTED_HEX = List.of("903c64", "803c00");

    @Inject
    private BundleContext context;

    @Inject
    @Filter(timeout = 30_000)
    private LocalNode node;

    @Inject
    @Filter(timeout = 30_000)
    private DeviceRegistry registry;

    @Inject
    @Filter(timeout = 30_000)
    private VirtualPorts virtualPorts;

    @Inject
    @Filter(timeout = 30_000)
    private RoutingService routing;

    @Configuration
    public Option[] config() {
        return MidiMeshOsgiOptions.node("VirtualRouteOsgiIT");
    }

    @Test(timeout = 90_000)
    public void routeBetweenVirtualPortsOverHttp() throws Exception {
        assertNodeUsesTheFreshDataDir();
        int port = Integer.parseInt(context.getProperty(MidiMeshOsgiOptions.HTTP_PORT));
        LoopbackHttp http = new LoopbackHttp(port);
        Poll.until("GET /health answers 200 \"up\"", SETTLE, () -> http.get("/health"),
                r -> r.status() == 200 && "up".equals(r.json().path("status").asText()));

        int in = createVirtualPort(http, "itest in", "input");
        int out = createVirtualPort(http, "itest out", "output");
        assertTrue("two different device ids, got " + in + " and " + out, in != out);

        LoopbackHttp.Response route = http.post("/routing/routes", Map.of(
                "source", Map.of("node_id", "local", "device_id", in),
                "destination", Map.of("node_id", "local", "device_id", out)));
        assertEquals("POST /routing/routes: " + route, 201, route.status());
        JsonNode r = route.json();
        assertFalse("route_id in " + route.body(), r.path("route_id").asText().isEmpty());
        assertEquals("source device in " + route.body(), in, r.path("source").path("device_id").asInt());
        assertEquals("destination device in " + route.body(), out, r.path("destination").path("device_id").asInt());
        assertTrue("new route enabled: " + route.body(), r.path("enabled").asBoolean(false));

        LoopbackHttp.Response sent = http.post("/midi/devices/" + in + "/send", Map.of("messages", SENT));
        assertEquals("POST /midi/devices/" + in + "/send: " + sent, 202, sent.status());
        assertEquals("accepted in " + sent.body(), SENT.size(), sent.json().path("accepted").asInt());

        String path = "/midi/devices/" + out + "/received?after=0";
        LoopbackHttp.Response received = Poll.until("GET " + path + " shows both messages", DELIVERY,
                () -> http.get(path), x -> x.status() == 200 && x.json().path("messages").size() >= SENT.size());
        JsonNode page = received.json();
        assertEquals("device_id in " + received.body(), out, page.path("device_id").asInt());
        List<String> data = new ArrayList<>();
        long previousSeq = 0;
        for (JsonNode m : page.path("messages")) {
            data.add(m.path("data").asText());
            long seq = m.path("seq").asLong();
            assertTrue("sequence numbers grow in " + received.body(), seq > previousSeq);
            previousSeq = seq;
            assertEquals("source_node of a message played through a local route, in " + received.body(),
                    node.id().toString(), m.path("source_node").asText());
        }
        assertEquals("messages on \"itest out\", in order: " + received.body(), EXPECTED_HEX, data);
        assertEquals("total in " + received.body(), SENT.size(), page.path("total").asLong());
    }

    @Test(timeout = 90_000)
    public void routeBetweenVirtualPortsThroughServices() throws Exception {
        assertNodeUsesTheFreshDataDir();
        virtualPorts.create("itest svc in", DeviceType.INPUT);
        virtualPorts.create("itest svc out", DeviceType.OUTPUT);
        int in = awaitDevice("itest svc in", DeviceType.INPUT).id();
        int out = awaitDevice("itest svc out", DeviceType.OUTPUT).id();

        Route route = routing.create(new RouteRequest(Optional.of(new RouteEndpoint(node.id(), in)),
                Optional.of(new RouteEndpoint(node.id(), out)), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty()));
        assertTrue("route " + route + " is listed", routing.get(route.id()).isPresent());
        assertTrue("new route enabled: " + route, route.enabled());

        Optional<MidiPort> outPort = registry.port(out);
        assertTrue("DeviceRegistry.port(" + out + ") is present", outPort.isPresent());
        assertTrue("a virtual output keeps a ReceivedLog: " + outPort.get().getClass().getName(),
                outPort.get() instanceof ReceivedLog);
        ReceivedLog log = (ReceivedLog) outPort.get();

        List<MidiMessage> messages = SENT.stream().map(MidiMessage::parseHex).toList();
        registry.send(in, messages);

        ReceivedLog.Page page = Poll.until("both messages played on \"itest svc out\"", DELIVERY,
                () -> log.read(0, 100), p -> p.messages().size() >= messages.size(),
                p -> p.messages().toString());
        assertEquals("messages in order", messages,
                page.messages().stream().map(ReceivedLog.Received::message).toList());
        assertTrue("sequence numbers grow: " + page.messages(),
                page.messages().get(0).seq() < page.messages().get(1).seq());
        for (ReceivedLog.Received r : page.messages()) {
            assertEquals("source node of " + r, node.id(), r.sourceNode());
        }
        assertEquals("total", messages.size(), page.total());
    }

    /**
     * The ports and routes made here are kept in the data dir; only a fresh one (made by the configuration) keeps the
     * test independent of earlier runs.
     */
    private void assertNodeUsesTheFreshDataDir() {
        assertEquals("LocalNode.dataDir() must be the data_dir given as midimesh.config.data_dir",
                Path.of(context.getProperty(MidiMeshOsgiOptions.CONFIG + "data_dir")), node.dataDir());
    }

    /** POST /midi/virtual-ports, then the new device's id. */
    private static int createVirtualPort(LoopbackHttp http, String name, String type) throws Exception {
        LoopbackHttp.Response r = http.post("/midi/virtual-ports", Map.of("name", name, "type", type));
        assertEquals("POST /midi/virtual-ports " + name + ": " + r, 201, r.status());
        JsonNode d = r.json();
        assertEquals("name in " + r.body(), name, d.path("name").asText());
        assertEquals("type in " + r.body(), type, d.path("type").asText());
        assertTrue("id in " + r.body(), d.path("id").asInt(0) > 0);
        return d.path("id").asInt();
    }

    private LocalDevice awaitDevice(String name, DeviceType type) throws InterruptedException {
        List<LocalDevice> found = Poll.until("device \"" + name + "\" (" + type + ") in the registry", DELIVERY,
                () -> registry.devices().stream().filter(d -> d.name().equals(name) && d.type() == type).toList(),
                l -> !l.isEmpty(), l -> "devices " + registry.devices());
        assertEquals("one device named " + name, 1, found.size());
        assertEquals("driver of " + name, "virtual", found.get(0).driver());
        return found.get(0);
    }
}
