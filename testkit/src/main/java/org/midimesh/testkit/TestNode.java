package org.midimesh.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;

import org.midimesh.api.DeviceType;
import org.midimesh.api.LocalNode;
import org.midimesh.api.devices.DeviceRegistry;
import org.midimesh.api.devices.DeviceStatus;
import org.midimesh.api.devices.LocalDevice;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.routing.Route;
import org.midimesh.api.routing.RouteEndpoint;
import org.midimesh.api.routing.RouteRequest;
import org.midimesh.api.routing.RoutingService;
import org.midimesh.api.virtual.ReceivedLog;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The node booted by {@link MidiMeshOptions#node}, seen from a test inside the framework (the probe), through the
 * node's OSGi services. Every wait is bounded by {@link #timeout()} and fails with an {@link AssertionError} that says
 * what was awaited and what was seen instead.
 * <pre>{@code
 * @Inject BundleContext context;
 *
 * @Test(timeout = 60_000)
 * public void myInputReachesTheVirtualOutput() {
 *     TestNode node = TestNode.of(context);
 *     int in = node.awaitDeviceId("mydriver", "My In");
 *     int out = node.virtualOutput();
 *     node.route(in, out);
 *     ...
 *     List<ReceivedLog.Received> got = node.awaitReceived(out, 0, 3, m -> true);
 * }
 * }</pre>
 * <p>Services are looked up anew for each call and released after it, so a test sees a component that was
 * restarted. Immutable; thread-safe as far as the node's services are.
 */
public final class TestNode {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    /** Messages read per {@link ReceivedLog#read} call. */
    static final int PAGE = 4096;

    private final BundleContext context;
    private final Duration timeout;

    private TestNode(BundleContext context, Duration timeout) {
        if (context == null) {
            throw new IllegalArgumentException("context is missing: inject the probe's BundleContext");
        }
        this.context = context;
        this.timeout = timeout;
    }

    /** The node of this framework, with waits of {@link #DEFAULT_TIMEOUT}. */
    public static TestNode of(BundleContext context) {
        return new TestNode(context, DEFAULT_TIMEOUT);
    }

    /** The same node with another bound for every wait. */
    public TestNode withTimeout(Duration timeout) {
        return new TestNode(context, timeout);
    }

    public Duration timeout() {
        return timeout;
    }

    public BundleContext context() {
        return context;
    }

    // ---- services --------------------------------------------------------------------------------------------

    /**
     * A service of the node, waiting for it up to the timeout. The probe bundle keeps using it until the probe stops;
     * for one-off calls prefer {@link #with}.
     */
    public <T> T service(Class<T> type) {
        ServiceReference<T> ref = awaitReference(type);
        T s = context.getService(ref);
        if (s == null) {
            throw new AssertionError("service " + type.getName() + " went away while it was being got");
        }
        return s;
    }

    /** Calls {@code call} with a service of the node (waiting for it up to the timeout), then releases it. */
    public <T, R> R with(Class<T> type, Function<? super T, ? extends R> call) {
        ServiceReference<T> ref = awaitReference(type);
        T s = context.getService(ref);
        if (s == null) {
            throw new AssertionError("service " + type.getName() + " went away while it was being got");
        }
        try {
            return call.apply(s);
        } finally {
            context.ungetService(ref);
        }
    }

    private <T> ServiceReference<T> awaitReference(Class<T> type) {
        return Wait.until("service " + type.getName() + " registered", timeout,
                () -> context.getServiceReference(type), r -> r != null,
                r -> "none (is the bundle that provides it started? bundles: " + bundleStates() + ")");
    }

    private String bundleStates() {
        List<String> out = new ArrayList<>();
        for (org.osgi.framework.Bundle b : context.getBundles()) {
            if (b.getState() != org.osgi.framework.Bundle.ACTIVE) {
                out.add(b.getSymbolicName() + "=" + b.getState());
            }
        }
        return out.isEmpty() ? "all active" : "not active " + out;
    }

    public LocalNode node() {
        return with(LocalNode.class, n -> n);
    }

    /** The HTTP port the node serves on (loopback). */
    public int httpPort() {
        return Integer.parseInt(context.getProperty(MidiMeshOptions.HTTP_PORT));
    }

    // ---- devices ---------------------------------------------------------------------------------------------

    /** The devices now. */
    public List<LocalDevice> devices() {
        return with(DeviceRegistry.class, DeviceRegistry::devices);
    }

    /**
     * Waits for the port {@code portName} of driver {@code driver} in direction {@code type} to be a device.
     *
     * @return the device, with its id
     */
    public LocalDevice awaitDevice(String driver, String portName, DeviceType type) {
        return Wait.until("device \"" + portName + "\" (" + type.wireName() + ") of driver " + driver, timeout,
                () -> find(driver, portName, type), Optional::isPresent, o -> "devices " + devices()).get();
    }

    /**
     * Waits for the one port {@code portName} of driver {@code driver}, input or output, and returns its device id.
     *
     * @throws AssertionError also when the driver has both an input and an output of that name (say which, with
     *                        {@link #awaitDevice})
     */
    public int awaitDeviceId(String driver, String portName) {
        List<LocalDevice> found = Wait.until("device \"" + portName + "\" of driver " + driver, timeout,
                () -> devices().stream().filter(d -> d.driver().equals(driver) && d.name().equals(portName))
                        .toList(), l -> !l.isEmpty(), l -> "devices " + devices());
        if (found.size() > 1) {
            throw new AssertionError("driver " + driver + " has an input and an output named \"" + portName
                    + "\": use awaitDevice(driver, name, type); devices " + found);
        }
        return found.get(0).id();
    }

    private Optional<LocalDevice> find(String driver, String portName, DeviceType type) {
        return devices().stream().filter(d -> d.driver().equals(driver) && d.name().equals(portName)
                && d.type() == type).findFirst();
    }

    /** The node's default virtual input {@code "<node name> In"} (device 1 on a fresh node). */
    public int virtualInput() {
        return awaitDevice("virtual", node().name() + " In", DeviceType.INPUT).id();
    }

    /** The node's default virtual output {@code "<node name> Out"} (device 2 on a fresh node). */
    public int virtualOutput() {
        return awaitDevice("virtual", node().name() + " Out", DeviceType.OUTPUT).id();
    }

    /** How the device is doing now. */
    public DeviceStatus status(int deviceId) {
        return with(DeviceRegistry.class, r -> r.status(deviceId)).orElseThrow(
                () -> new AssertionError("no device " + deviceId + "; devices " + devices()));
    }

    // ---- routes and messages ---------------------------------------------------------------------------------

    /** Creates an enabled route from a local input to a local output, with no filter. */
    public Route route(int fromInput, int toOutput) {
        LocalNode n = node();
        RouteRequest request = new RouteRequest(Optional.of(new RouteEndpoint(n.id(), fromInput)),
                Optional.of(new RouteEndpoint(n.id(), toOutput)), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty());
        try {
            return with(RoutingService.class, r -> r.create(request));
        } catch (IllegalArgumentException e) {
            throw new AssertionError("cannot route " + fromInput + " -> " + toOutput + ": " + e.getMessage()
                    + "; devices " + devices(), e);
        }
    }

    /**
     * Sends messages to a device: into the mesh for an input (as if it had produced them), played for an output.
     */
    public void send(int deviceId, List<MidiMessage> messages) {
        with(DeviceRegistry.class, r -> {
            r.send(deviceId, messages);
            return null;
        });
    }

    /** As {@link #send(int, List)}, with messages in hex ({@code "90 3c 64"}). */
    public void send(int deviceId, String... hex) {
        send(deviceId, java.util.Arrays.stream(hex).map(MidiMessage::parseHex).toList());
    }

    // ---- what a virtual output played ------------------------------------------------------------------------

    /** The log of what a virtual output played. */
    public ReceivedLog receivedLog(int outputId) {
        MidiPort port = with(DeviceRegistry.class, r -> r.port(outputId)).orElseThrow(
                () -> new AssertionError("no device " + outputId + "; devices " + devices()));
        if (!(port instanceof ReceivedLog log)) {
            throw new AssertionError("device " + outputId + " is " + port + " (" + port.getClass().getName()
                    + "), not a virtual output; only those keep what they played");
        }
        return log;
    }

    /** The sequence number of the last message the output played (0 when none): pass it as {@code after} later. */
    public long mark(int outputId) {
        return receivedLog(outputId).read(0, 0).total();
    }

    /** Everything the output played after sequence number {@code after} and still holds, oldest first. */
    public List<ReceivedLog.Received> received(int outputId, long after) {
        ReceivedLog log = receivedLog(outputId);
        List<ReceivedLog.Received> out = new ArrayList<>();
        long next = after;
        while (true) {
            ReceivedLog.Page page = log.read(next, PAGE);
            out.addAll(page.messages());
            if (page.messages().isEmpty() || page.next() >= page.total()) {
                return out;
            }
            next = page.next();
        }
    }

    /** Waits until the output has played at least {@code count} messages in all; returns them all. */
    public List<ReceivedLog.Received> awaitReceived(int outputId, int count) {
        return awaitReceived(outputId, 0, count, m -> true);
    }

    /**
     * Waits until the output has played at least {@code count} messages that match {@code which} after sequence
     * number {@code after}; returns every matching one after it (at least {@code count}).
     */
    public List<ReceivedLog.Received> awaitReceived(int outputId, long after, int count,
            Predicate<? super MidiMessage> which) {
        return Wait.until(count + " matching messages played on device " + outputId + " after #" + after, timeout,
                () -> received(outputId, after).stream().filter(r -> which.test(r.message())).toList(),
                l -> l.size() >= count, l -> l.size() + " matching, the last " + tail(l));
    }

    private static String tail(List<ReceivedLog.Received> l) {
        return l.subList(Math.max(0, l.size() - 5), l.size()).toString();
    }

    // ---- configuration ---------------------------------------------------------------------------------------

    /**
     * Replaces the properties of configuration {@code pid} (any location), as an {@code etc/<pid>.cfg} file would;
     * the component sees them shortly after, on ConfigAdmin's thread.
     */
    public void configure(String pid, Map<String, ?> properties) {
        Dictionary<String, Object> d = new Hashtable<>(properties);
        with(ConfigurationAdmin.class, ca -> {
            try {
                ca.getConfiguration(pid, "?").update(d);
            } catch (java.io.IOException e) {
                throw new AssertionError("cannot update configuration " + pid + ": " + e, e);
            }
            return null;
        });
    }
}
