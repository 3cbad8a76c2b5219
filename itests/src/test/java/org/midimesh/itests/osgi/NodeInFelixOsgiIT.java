package org.midimesh.itests.osgi;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.midimesh.api.LocalNode;
import org.midimesh.api.connection.ConnectionPool;
import org.midimesh.api.strategy.StrategyControl;
import org.midimesh.api.strategy.spi.ConnectionStrategy;
import org.midimesh.api.connection.PeerLink;
import org.midimesh.api.devices.DeviceRegistry;
import org.midimesh.api.driver.MidiDriver;
import org.midimesh.api.virtual.VirtualPorts;
import org.midimesh.api.mesh.Mesh;
import org.midimesh.api.routing.RoutingService;
import org.midimesh.api.transport.TransportStats;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.ops4j.pax.exam.util.Filter;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.service.component.runtime.ServiceComponentRuntime;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A whole MidiMesh node inside Felix, configured as the launcher configures it: every staged bundle starts, every DS
 * component of the org.midimesh.* bundles comes up, the key services are there with the command-line settings, and
 * GET /health answers "up".
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class NodeInFelixOsgiIT {

    /** Components that wait for ConfigAdmin or the HTTP whiteboard settle within this. */
    private static final Duration SETTLE = Duration.ofSeconds(30);

    @Inject
    private BundleContext context;

    @Inject
    @Filter(timeout = 30_000)
    private ServiceComponentRuntime scr;

    @Configuration
    public Option[] config() {
        return MidiMeshOsgiOptions.node("NodeInFelixOsgiIT");
    }

    @Test(timeout = 60_000)
    public void everyStagedBundleIsActiveAndFragmentsResolved() throws Exception {
        List<Path> staged = MidiMeshOsgiOptions.stagedBundles();
        Map<String, Path> byLocation = new TreeMap<>();
        for (Path jar : staged) {
            byLocation.put(MidiMeshOsgiOptions.location(jar), jar);
        }
        List<Bundle> bundles = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            if (byLocation.containsKey(b.getLocation())) {
                bundles.add(b);
            }
        }
        Set<String> missing = new TreeSet<>(byLocation.keySet());
        bundles.forEach(b -> missing.remove(b.getLocation()));
        assertTrue("staged bundles that are not installed in the framework: " + missing, missing.isEmpty());

        // Starting happens on the framework's start-level thread; let STARTING bundles finish.
        List<Bundle> wrong;
        try {
            wrong = Poll.until("every staged bundle ACTIVE (fragments RESOLVED)", Duration.ofSeconds(10),
                    () -> bundles.stream().filter(b -> b.getState() != expectedState(b)).toList(), List::isEmpty,
                    l -> l.stream().map(NodeInFelixOsgiIT::describe).collect(Collectors.joining(", ")));
        } catch (AssertionError e) {
            wrong = bundles.stream().filter(b -> b.getState() != expectedState(b)).toList();
        }
        if (!wrong.isEmpty()) {
            StringBuilder report = new StringBuilder(wrong.size() + " of " + bundles.size()
                    + " staged bundles are not in their expected state:");
            for (Bundle b : wrong) {
                report.append("\n  ").append(describe(b)).append(": ").append(reason(b));
            }
            fail(report.toString());
        }
    }

    @Test(timeout = 60_000)
    public void theServiceGraphOfOurComponentsHasNoCycle() {
        List<Bundle> ours = Arrays.stream(context.getBundles())
                .filter(b -> b.getSymbolicName() != null && b.getSymbolicName().startsWith("org.midimesh."))
                .toList();
        List<String> cycles = ComponentReport.serviceCycles(scr, ours);
        assertTrue("service cycles between org.midimesh.* components (SCR may leave a consumer unbound):\n  "
                + String.join("\n  ", cycles), cycles.isEmpty());
    }

    @Test(timeout = 60_000)
    public void everyMidiMeshComponentIsActiveOrSatisfied() throws Exception {
        List<Bundle> ours = Arrays.stream(context.getBundles())
                .filter(b -> b.getSymbolicName() != null && b.getSymbolicName().startsWith("org.midimesh."))
                .toList();
        assertFalse("no org.midimesh.* bundles are installed", ours.isEmpty());
        List<String> problems;
        try {
            problems = Poll.until("every org.midimesh.* DS component ACTIVE or SATISFIED", SETTLE,
                    () -> ComponentReport.problems(scr, ours), List::isEmpty, l -> String.join("; ", l));
        } catch (AssertionError e) {
            problems = ComponentReport.problems(scr, ours);
        }
        if (!problems.isEmpty()) {
            fail(problems.size() + " DS component problem(s) in org.midimesh.* bundles:\n  "
                    + String.join("\n  ", problems));
        }
    }

    @Test(timeout = 60_000)
    public void keyServicesAreRegisteredWithTheCommandLineSettings() throws Exception {
        Map<String, String> wanted = new TreeMap<>();
        wanted.put("LocalNode", "(objectClass=" + LocalNode.class.getName() + ")");
        wanted.put("ConnectionStrategy strategy=mutex", "(&(objectClass=" + ConnectionStrategy.class.getName()
                + ")(" + ConnectionStrategy.STRATEGY_PROPERTY + "=mutex))");
        wanted.put("StrategyControl", "(objectClass=" + StrategyControl.class.getName() + ")");
        wanted.put("ConnectionPool", "(objectClass=" + ConnectionPool.class.getName() + ")");
        wanted.put("PeerLink", "(objectClass=" + PeerLink.class.getName() + ")");
        wanted.put("TransportStats", "(objectClass=" + TransportStats.class.getName() + ")");
        wanted.put("Mesh", "(objectClass=" + Mesh.class.getName() + ")");
        wanted.put("DeviceRegistry", "(objectClass=" + DeviceRegistry.class.getName() + ")");
        wanted.put("MidiDriver", "(objectClass=" + MidiDriver.class.getName() + ")");
        wanted.put("VirtualPorts", "(objectClass=" + VirtualPorts.class.getName() + ")");
        wanted.put("RoutingService", "(objectClass=" + RoutingService.class.getName() + ")");
        List<String> missing;
        try {
            missing = Poll.until("every key service registered", SETTLE, () -> missingServices(wanted),
                    List::isEmpty);
        } catch (AssertionError e) {
            missing = missingServices(wanted);
        }
        assertTrue("services not registered after " + SETTLE.toSeconds() + " s: " + missing, missing.isEmpty());

        LocalNode node = service(LocalNode.class, null);
        int httpPort = Integer.parseInt(context.getProperty(MidiMeshOsgiOptions.HTTP_PORT));
        assertEquals("bind address", MidiMeshOsgiOptions.LOOPBACK, node.bindAddress());
        assertEquals("http port", httpPort, node.httpPort());
        assertEquals("udp port", configInt("udp_port"), node.udpPort());
        assertEquals("tcp port", configInt("tcp_port"), node.tcpPort());
        assertEquals("discovery", "none", node.discovery());
        assertEquals("--strategy", java.util.Optional.of("mutex"), node.strategyOption());
        assertEquals("default strategy", "mutex", service(StrategyControl.class, null).status().defaultStrategy());
        assertEquals("data dir", Path.of(context.getProperty(MidiMeshOsgiOptions.CONFIG + "data_dir")),
                node.dataDir());
        assertEquals("name", context.getProperty(MidiMeshOsgiOptions.CONFIG + "name"), node.name());
        assertTrue("no admin token was given", node.adminToken().isEmpty());
        assertTrue("no static peers were given", node.staticPeers().isEmpty());
        assertNotNull("node id", node.id());

        assertEquals("the transport binds the configured UDP port", configInt("udp_port"),
                service(TransportStats.class, null).udpPort());
        assertEquals("strategy service name", "mutex",
                service(ConnectionStrategy.class, "(" + ConnectionStrategy.STRATEGY_PROPERTY + "=mutex)").name());
        assertEquals("no peers, so no connections", 0, service(ConnectionPool.class, null).size());

        List<String> drivers = new ArrayList<>();
        for (ServiceReference<MidiDriver> ref : context.getServiceReferences(MidiDriver.class, null)) {
            MidiDriver d = context.getService(ref);
            try {
                drivers.add(d.name());
            } finally {
                context.ungetService(ref);
            }
        }
        assertTrue("a MidiDriver named \"virtual\" among " + drivers, drivers.contains("virtual"));
    }

    @Test(timeout = 60_000)
    public void healthAnswersUp() throws Exception {
        int port = Integer.parseInt(context.getProperty(MidiMeshOsgiOptions.HTTP_PORT));
        LoopbackHttp http = new LoopbackHttp(port);
        LoopbackHttp.Response r = Poll.until("GET http://127.0.0.1:" + port + "/health answers 200", SETTLE,
                () -> http.get("/health"), x -> x.status() == 200);
        assertNotNull("Content-Type of /health", r.contentType());
        assertTrue("JSON Content-Type, not " + r.contentType(), r.contentType().startsWith("application/json"));
        JsonNode body = r.json();
        assertEquals("status in " + r.body(), "up", body.path("status").asText());
        assertTrue("checks object in " + r.body(), body.path("checks").isObject());
    }

    // ---- helpers ----

    private int configInt(String attribute) {
        return Integer.parseInt(context.getProperty(MidiMeshOsgiOptions.CONFIG + attribute));
    }

    private <S> S service(Class<S> type, String filter) throws InvalidSyntaxException {
        Collection<ServiceReference<S>> refs = context.getServiceReferences(type, filter);
        assertFalse("no " + type.getSimpleName() + " service " + (filter == null ? "" : filter), refs.isEmpty());
        S s = context.getService(refs.iterator().next());
        assertNotNull(type.getSimpleName() + " service object", s);
        return s;
    }

    private List<String> missingServices(Map<String, String> wanted) throws InvalidSyntaxException {
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, String> e : wanted.entrySet()) {
            ServiceReference<?>[] refs = context.getAllServiceReferences(null, e.getValue());
            if (refs == null || refs.length == 0) {
                missing.add(e.getKey());
            }
        }
        return missing;
    }

    private static boolean isFragment(Bundle b) {
        return b.getHeaders("").get(Constants.FRAGMENT_HOST) != null;
    }

    private static int expectedState(Bundle b) {
        return isFragment(b) ? Bundle.RESOLVED : Bundle.ACTIVE;
    }

    private static String describe(Bundle b) {
        return "[" + b.getBundleId() + "] " + b.getSymbolicName() + " " + b.getVersion() + " "
                + stateName(b.getState()) + (isFragment(b) ? " (fragment)" : "");
    }

    static String stateName(int state) {
        switch (state) {
            case Bundle.UNINSTALLED:
                return "UNINSTALLED";
            case Bundle.INSTALLED:
                return "INSTALLED";
            case Bundle.RESOLVED:
                return "RESOLVED";
            case Bundle.STARTING:
                return "STARTING";
            case Bundle.STOPPING:
                return "STOPPING";
            case Bundle.ACTIVE:
                return "ACTIVE";
            default:
                return "state " + state;
        }
    }

    /**
     * Why a bundle is not where it should be. Resolving again through FrameworkWiring tells whether it can resolve at
     * all; starting it (transiently) is the only standard way to get the framework's reason (the missing requirement
     * or the activator's exception) as a BundleException. This test has failed already when it gets here.
     */
    private String reason(Bundle b) {
        FrameworkWiring wiring = context.getBundle(Constants.SYSTEM_BUNDLE_LOCATION).adapt(FrameworkWiring.class);
        boolean resolves = wiring.resolveBundles(List.of(b));
        if (isFragment(b)) {
            return resolves ? "resolves when asked again (was " + stateName(b.getState()) + ")"
                    : "does not resolve: Fragment-Host " + b.getHeaders("").get(Constants.FRAGMENT_HOST);
        }
        try {
            b.start(Bundle.START_TRANSIENT);
            return (resolves ? "resolved" : "did not resolve") + ", and starting it again worked (now "
                    + stateName(b.getState()) + ")";
        } catch (BundleException e) {
            StringBuilder s = new StringBuilder(resolves ? "resolved, but start failed: " : "unresolved: ");
            s.append(e.getMessage());
            for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
                s.append(" <- ").append(c);
            }
            return s.toString();
        } catch (RuntimeException e) {
            return "start threw " + e;
        }
    }
}
