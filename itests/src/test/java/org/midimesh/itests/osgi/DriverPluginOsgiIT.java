package org.midimesh.itests.osgi;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.midimesh.api.DeviceType;
import org.midimesh.api.LocalNode;
import org.midimesh.api.NodeId;
import org.midimesh.api.devices.DeviceRegistry;
import org.midimesh.api.devices.DeviceStatus;
import org.midimesh.api.devices.LocalDevice;
import org.midimesh.api.driver.InputSink;
import org.midimesh.api.driver.MidiDriver;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.driver.PortListener;
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
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Driver bundles inside Felix: their devices come and go with the bundle and keep their ids, routes that use them are
 * orphaned (with the reason) while they are gone and work again when they are back, and a driver whose {@code play}
 * hangs delays neither heartbeats nor other devices.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class DriverPluginOsgiIT {

    private static final Duration SETTLE = Duration.ofSeconds(30);
    private static final Duration QUICK = Duration.ofSeconds(10);

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
    private RoutingService routing;

    @Configuration
    public Option[] config() {
        return MidiMeshOsgiOptions.node("DriverPluginOsgiIT");
    }

    /**
     * The javasound driver bundle, uninstalled and installed again from the same file: its devices vanish and come back
     * under the same ids, and a route to one is orphaned in between.
     */
    @Test(timeout = 120_000)
    public void devicesFollowTheirBundleAndKeepTheirIds() throws Exception {
        Bundle javasound = bundle("org.midimesh.driver-javasound");
        List<LocalDevice> before = Poll.until("the javasound driver lists its devices", SETTLE,
                () -> devicesOf("javasound"), l -> !l.isEmpty(), l -> "devices " + registry.devices());
        LocalDevice target = before.stream().filter(d -> d.type() == DeviceType.OUTPUT).findFirst().orElse(null);
        Route route = null;
        if (target != null) {
            route = routing.create(new RouteRequest(Optional.of(new RouteEndpoint(node.id(), 1)),
                    Optional.of(new RouteEndpoint(node.id(), target.id())), Optional.empty(), Optional.empty(),
                    Optional.empty(), Optional.empty()));
            assertFalse("a route to a listed device is not orphaned: " + route, route.orphaned());
        }
        String location = javasound.getLocation();
        javasound.uninstall();
        Poll.until("the javasound devices are gone", QUICK, () -> devicesOf("javasound"), List::isEmpty,
                l -> "devices " + registry.devices());
        if (route != null) {
            Route orphaned = routing.get(route.id()).orElseThrow();
            assertTrue("the route is kept and shown orphaned: " + orphaned, orphaned.orphaned());
            assertEquals("destination: this node has no device " + target.id() + " (now)", orphaned.orphanedReason());
        }
        Bundle again = context.installBundle(location);
        again.start();
        List<LocalDevice> after = Poll.until("the javasound devices are back", QUICK, () -> devicesOf("javasound"),
                l -> l.size() == before.size(), l -> "devices " + registry.devices());
        assertEquals("the same devices under the same ids", before, after);
        if (route != null) {
            assertFalse("the route is whole again", routing.get(route.id()).orElseThrow().orphaned());
            routing.delete(route.id());
        }
    }

    /**
     * An output whose play never returns, fed from a peer process along with a virtual output: the peer's heartbeats
     * keep the connection up, the virtual output gets every message, and the hung one is shown unavailable with its
     * drops counted.
     */
    @Test(timeout = 180_000)
    public void aHungPlayDelaysNeitherHeartbeatsNorOtherOutputs() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        HangingDriver driver = new HangingDriver(release);
        Hashtable<String, Object> props = new Hashtable<>();
        ServiceRegistration<MidiDriver> reg = context.registerService(MidiDriver.class, driver, props);
        int httpPort = Integer.parseInt(context.getProperty(MidiMeshOsgiOptions.HTTP_PORT));
        LoopbackHttp http = new LoopbackHttp(httpPort);
        try (PeerNode peer = PeerNode.start("hung-peer", httpPort)) {
            int stuck = Poll.until("the hanging driver's output is listed", QUICK, () -> devicesOf("hanging"),
                    l -> l.size() == 1, l -> "devices " + registry.devices()).get(0).id();
            Poll.until("the peer is connected with our devices known", SETTLE,
                    () -> peer.http().get("/midi/devices"),
                    r -> r.status() == 200 && countOwnedBy(r.json(), node.id().toString()) >= 3);
            for (int dest : List.of(stuck, 2)) {
                LoopbackHttp.Response made = peer.http().post("/routing/routes", Map.of(
                        "source", Map.of("node_id", "local", "device_id", 1),
                        "destination", Map.of("node_id", node.id().toString(), "device_id", dest)));
                assertEquals("route on the peer to our device " + dest + ": " + made, 201, made.status());
            }
            // Send for 4 s, each message once the previous one arrived: longer than the 1 s hang limit and several
            // heartbeat intervals.
            long start = System.nanoTime();
            int rounds = 0;
            long worstHeartbeatAge = 0;
            while (System.nanoTime() - start < TimeUnit.SECONDS.toNanos(4)) {
                LoopbackHttp.Response sent = peer.http().post("/midi/devices/1/send",
                        Map.of("messages", List.of(String.format("b0 07 %02x", rounds % 128))));
                assertEquals("send " + rounds + ": " + sent, 202, sent.status());
                rounds++;
                long expected = rounds;
                Poll.until("message " + rounds + " reaches the virtual output", QUICK, () -> registry.status(2)
                        .map(DeviceStatus::played).orElse(0L), n -> n >= expected);
                JsonNode entry = meshEntry(http, peer.uuid());
                assertEquals("the peer stays connected while play hangs: " + entry, "connected",
                        entry.path("state").asText());
                worstHeartbeatAge = Math.max(worstHeartbeatAge, entry.path("last_heartbeat_ms_ago").asLong());
            }
            assertTrue("heartbeats kept coming while play hung (worst age " + worstHeartbeatAge + " ms)",
                    worstHeartbeatAge < 3_000);
            assertEquals("every message played on the virtual output, none twice", rounds,
                    registry.status(2).orElseThrow().played());
            DeviceStatus s = registry.status(stuck).orElseThrow();
            assertFalse("the hung output is unavailable: " + s, s.available());
            assertTrue("its reason says why: " + s, s.reason().startsWith("play has not returned for "));
            assertTrue("its messages were dropped and counted: " + s, s.dropped() > 0);
            assertEquals("play was entered once and never returned", 1, driver.port.entered.size());
            JsonNode listed = findDevice(http.get("/midi/devices").json(), stuck);
            assertFalse("/midi/devices shows it unavailable: " + listed, listed.path("available").asBoolean(true));
        } finally {
            release.countDown();
            reg.unregister();
        }
    }

    private List<LocalDevice> devicesOf(String driver) {
        return registry.devices().stream().filter(d -> d.driver().equals(driver)).toList();
    }

    private Bundle bundle(String symbolicName) {
        for (Bundle b : context.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError("no bundle " + symbolicName + " installed");
    }

    private static int countOwnedBy(JsonNode devices, String owner) {
        int n = 0;
        for (JsonNode d : devices.path("devices")) {
            if (owner.equalsIgnoreCase(d.path("owner_node").asText())) {
                n++;
            }
        }
        return n;
    }

    private static JsonNode findDevice(JsonNode devices, int id) {
        for (JsonNode d : devices.path("devices")) {
            if (d.path("is_local").asBoolean() && d.path("id").asInt() == id) {
                return d;
            }
        }
        throw new AssertionError("no local device " + id + " in " + devices);
    }

    private static JsonNode meshEntry(LoopbackHttp http, String peer) throws Exception {
        for (JsonNode n : http.get("/network/mesh").json().path("nodes")) {
            if (peer.equalsIgnoreCase(n.path("uuid").asText())) {
                return n;
            }
        }
        throw new AssertionError("peer " + peer + " is not in /network/mesh");
    }

    /** A driver with one output whose play blocks until released. */
    static final class HangingDriver implements MidiDriver {
        final HangingPort port;

        HangingDriver(CountDownLatch release) {
            this.port = new HangingPort(release);
        }

        @Override
        public String name() {
            return "hanging";
        }

        @Override
        public List<MidiPort> ports() {
            return List.of(port);
        }

        @Override
        public void addPortListener(PortListener listener) {
        }

        @Override
        public void removePortListener(PortListener listener) {
        }
    }

    static final class HangingPort implements MidiPort {
        private final CountDownLatch release;
        // Added to by the delivery thread inside play, read by the test.
        final List<List<MidiMessage>> entered = new CopyOnWriteArrayList<>();

        HangingPort(CountDownLatch release) {
            this.release = release;
        }

        @Override
        public String name() {
            return "Stuck";
        }

        @Override
        public DeviceType type() {
            return DeviceType.OUTPUT;
        }

        @Override
        public void play(List<MidiMessage> messages, NodeId source) {
            entered.add(new ArrayList<>(messages));
            try {
                release.await(120, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void setInputSink(InputSink sink) {
        }
    }
}
