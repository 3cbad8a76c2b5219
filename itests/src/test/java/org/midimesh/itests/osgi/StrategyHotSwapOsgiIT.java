package org.midimesh.itests.osgi;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import javax.inject.Inject;

import org.junit.After;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.midimesh.api.LocalNode;
import org.midimesh.api.NodeId;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.devices.DeviceRegistry;
import org.midimesh.api.mesh.Mesh;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.strategy.Canary;
import org.midimesh.api.strategy.PolicyDecision;
import org.midimesh.api.strategy.PolicyMode;
import org.midimesh.api.strategy.StrategyChange;
import org.midimesh.api.strategy.StrategyControl;
import org.midimesh.api.strategy.Verdict.Action;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.ops4j.pax.exam.util.Filter;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Hot swap inside Felix, with a real peer (a midimesh.jar process dialling this node) so MIDI crosses the network:
 * swaps by ConfigAdmin while MIDI flows; the seda bundle stopped under its connections and started again; a third
 * strategy bundle (examples/strategy-sync, which passes the contract suite) installed at runtime and selected; and
 * the canary policy in auto mode promoting on injected contention, rolling back an injected latency regression, and
 * not flapping. Every test restores the default settings (mutex, manual, no canary, no pins) when it ends.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class StrategyHotSwapOsgiIT {

    private static final Duration SETTLE = Duration.ofSeconds(30);
    private static final String PID = "org.midimesh.strategy";
    private static final String SYNC_PID = "org.midimesh.example.sync";

    @Inject
    private BundleContext context;

    @Inject
    @Filter(timeout = 30_000)
    private StrategyControl control;

    @Inject
    @Filter(timeout = 30_000)
    private Mesh mesh;

    @Inject
    @Filter(timeout = 30_000)
    private DeviceRegistry registry;

    @Inject
    @Filter(timeout = 30_000)
    private ConfigurationAdmin configAdmin;

    @Inject
    @Filter(timeout = 30_000)
    private LocalNode node;

    private final List<PeerNode> peers = new ArrayList<>();
    private final List<Bundle> installed = new ArrayList<>();

    @Configuration
    public Option[] config() {
        return MidiMeshOsgiOptions.node("StrategyHotSwapOsgiIT");
    }

    @After
    public void restore() throws Exception {
        try {
            for (Bundle b : installed) {
                if (b.getState() != Bundle.UNINSTALLED) {
                    b.uninstall();
                }
            }
            // Replaced, never deleted: SCR (2.2.18) handles a delete whose event arrives after the PID was created
            // again as an update of the new configuration, and then ignores that as stale (its change count restarted
            // below the one SCR last saw), so a delete followed at once by an update could leave old settings in place.
            configAdmin.getConfiguration(SYNC_PID, "?").update(new Hashtable<>()); // no fault injection
            startIfStopped("org.midimesh.connection-seda");
            Hashtable<String, Object> defaults = new Hashtable<>();
            defaults.put("default", "mutex");
            configAdmin.getConfiguration(PID, "?").update(defaults);
            Poll.until("the defaults are back", SETTLE, () -> control.status(),
                    s -> s.defaultStrategy().equals("mutex") && !s.canary().active() && s.pins().isEmpty()
                            && s.policy().mode() == PolicyMode.MANUAL && s.available().contains("seda"));
        } finally {
            peers.forEach(PeerNode::close);
        }
    }

    private int httpPort() {
        return Integer.parseInt(context.getProperty(MidiMeshOsgiOptions.HTTP_PORT));
    }

    /** A peer dialling this node, connected both ways, with a route from our input 1 to its output 2. */
    private NetworkConnection peer(String name) throws Exception {
        PeerNode p = PeerNode.start(name, httpPort());
        peers.add(p);
        NodeId id = NodeId.parse(p.uuid());
        NetworkConnection c = Poll.until(name + " connected with its devices", SETTLE, () -> mesh.connection(id),
                o -> o.isPresent() && o.get().getState() == ConnectionState.CONNECTED
                        && !o.get().getRemoteDevices().isEmpty(),
                o -> o.map(x -> x.getState().wireName()).orElse("no connection") + "\n" + p.logTail()).get();
        LoopbackHttp http = new LoopbackHttp(httpPort());
        LoopbackHttp.Response r = http.post("/routing/routes", Map.of("source", Map.of("node_id", "local",
                "device_id", 1), "destination", Map.of("node_id", p.uuid(), "device_id", 2)));
        assertEquals("route to " + name + ": " + r, 201, r.status());
        return c;
    }

    /** Sends {@code count} numbered messages (note on, key and velocity the low and high 7 bits) from input 1. */
    private Thread sender(int count, ConcurrentLinkedQueue<String> problems, AtomicInteger sent) {
        Thread t = new Thread(() -> {
            try {
                for (int i = 0; i < count; i++) {
                    registry.send(1, List.of(MidiMessage.of((byte) 0x90, (byte) (i & 0x7f), (byte) (i >> 7 & 0x7f))));
                    sent.incrementAndGet();
                    if ((i & 15) == 15) {
                        // A paced stream of about 5,000 messages a second (the workplan's sustained rate): faster, a
                        // strategy's bounded queue may refuse MIDI on a loaded machine, which is not what is tested.
                        LockSupport.parkNanos(3_000_000);
                    }
                }
            } catch (RuntimeException e) {
                problems.add("sender: " + e);
            }
        }, "itest-sender");
        t.start();
        return t;
    }

    /** Every numbered message arrives at the peer once, in order, after {@code base}. */
    private static void assertAllArrived(PeerNode p, long base, int count) throws Exception {
        Poll.until("the peer got all " + count + " messages", SETTLE, () -> p.receivedTotal(2),
                total -> total >= base + count);
        List<String> got = p.receivedAfter(2, base);
        assertEquals("messages lost or duplicated", count, got.size());
        for (int i = 0; i < count; i++) {
            String want = String.format("90%02x%02x", i & 0x7f, i >> 7 & 0x7f);
            if (!want.equals(got.get(i))) {
                fail("message " + i + " lost, duplicated or reordered: got " + got.get(i) + ", wanted " + want);
            }
        }
    }

    private void awaitStrategy(NetworkConnection c, String strategy) throws InterruptedException {
        Poll.until("the connection runs " + strategy, SETTLE, c::strategy, strategy::equals);
    }

    private void setSettings(Map<String, Object> values) throws Exception {
        configAdmin.getConfiguration(PID, "?").update(new Hashtable<>(values));
    }

    private void startIfStopped(String symbolicName) throws Exception {
        for (Bundle b : context.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName()) && b.getState() != Bundle.ACTIVE) {
                b.start();
            }
        }
    }

    private Bundle bundle(String symbolicName) {
        for (Bundle b : context.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError("no bundle " + symbolicName);
    }

    private Bundle installSync() throws Exception {
        String jar = System.getProperty("itest.sync.bundle");
        assertTrue("system property itest.sync.bundle names the sync strategy's jar: " + jar,
                jar != null && Files.isRegularFile(Path.of(jar)));
        Bundle b = context.installBundle(Path.of(jar).toUri().toString());
        installed.add(b);
        b.start();
        Poll.until("strategy sync available", SETTLE, () -> control.status().available(), a -> a.contains("sync"));
        return b;
    }

    @Test(timeout = 180_000)
    public void swapsThroughConfigAdminWhileMidiFlowsLosingNothing() throws Exception {
        NetworkConnection c = peer("swap-peer");
        PeerNode p = peers.get(0);
        long base = p.receivedTotal(2);
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        AtomicInteger sent = new AtomicInteger();
        int count = 6000;
        Thread s = sender(count, problems, sent);
        for (int flip = 0; flip < 8; flip++) {
            int at = (flip + 1) * count / 10;
            Poll.until("the sender gets on", SETTLE, sent::get, n -> n >= at || !s.isAlive());
            String target = flip % 2 == 0 ? "seda" : "mutex";
            setSettings(Map.of("default", target));
            awaitStrategy(c, target);
            assertEquals(ConnectionState.CONNECTED, c.getState());
        }
        s.join(SETTLE.toMillis());
        assertTrue(problems.toString(), problems.isEmpty());
        assertAllArrived(p, base, count);
        assertEquals("the peer still sees us connected", "connected", p.stateOf(nodeId()));
    }

    private String nodeId() {
        return node.id().toString();
    }

    @Test(timeout = 180_000)
    public void stoppingTheSedaBundleMovesItsConnectionsToMutexAndStartingItAllowsACanaryOntoIt() throws Exception {
        NetworkConnection c = peer("seda-peer");
        PeerNode p = peers.get(0);
        control.change(StrategyChange.toDefault("seda"));
        assertEquals("seda", c.strategy());
        long base = p.receivedTotal(2);
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        AtomicInteger sent = new AtomicInteger();
        int count = 4000;
        Thread s = sender(count, problems, sent);
        Poll.until("the sender gets on", SETTLE, sent::get, n -> n >= count / 3);

        Bundle seda = bundle("org.midimesh.connection-seda");
        seda.stop(); // its connections move inside the unbind, before stop returns
        assertEquals("moved to what remains", "mutex", c.strategy());
        assertEquals(ConnectionState.CONNECTED, c.getState());
        assertTrue("the node says what it lacks: " + control.status(),
                control.status().degraded().orElse("").contains("default strategy seda"));
        s.join(SETTLE.toMillis());
        assertTrue(problems.toString(), problems.isEmpty());
        assertAllArrived(p, base, count);
        assertEquals("the peer still sees us connected", "connected", p.stateOf(nodeId()));

        seda.start();
        Poll.until("seda available again", SETTLE, () -> control.status().available(), a -> a.contains("seda"));
        awaitStrategy(c, "seda"); // the default is seda again: the connection goes back to it
        control.change(StrategyChange.toDefault("mutex"));
        assertEquals("mutex", c.strategy());
        control.change(StrategyChange.toCanary(new Canary("seda", 100, List.of())));
        assertEquals("the canary takes every peer at 100%", "seda", c.strategy());
        assertEquals(ConnectionState.CONNECTED, c.getState());
    }

    @Test(timeout = 180_000)
    public void aThirdStrategyBundleInstalledAtRuntimeCanRunTheConnectionsAndLeave() throws Exception {
        NetworkConnection c = peer("sync-peer");
        PeerNode p = peers.get(0);
        Bundle sync = installSync();
        control.change(StrategyChange.toDefault("sync"));
        assertEquals("sync", c.strategy());
        long base = p.receivedTotal(2);
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        AtomicInteger sent = new AtomicInteger();
        int count = 3000;
        Thread s = sender(count, problems, sent);
        Poll.until("the sender gets on", SETTLE, sent::get, n -> n >= count / 2);
        sync.uninstall(); // leaves: its connections move to mutex first
        assertEquals("mutex", c.strategy());
        s.join(SETTLE.toMillis());
        assertTrue(problems.toString(), problems.isEmpty());
        assertAllArrived(p, base, count);
        assertEquals(ConnectionState.CONNECTED, c.getState());
    }

    @Test(timeout = 240_000)
    public void thePolicyPromotesOnContentionRollsBackARegressionAndDoesNotFlap() throws Exception {
        NetworkConnection first = peer("policy-peer-1");
        NetworkConnection second = peer("policy-peer-2");
        installSync();
        AtomicBoolean stop = new AtomicBoolean();
        Thread queries = new Thread(() -> {
            while (!stop.get()) { // what the mesh, heartbeats and the HTTP API do to connections, faster
                for (NetworkConnection c : List.of(first, second)) {
                    c.getState();
                    c.getRemoteDevices();
                }
                LockSupport.parkNanos(200_000);
            }
        }, "itest-queries");
        queries.start();
        try {
            // Promote: sync made contended (a thread holds each engine's lock 2 ms of every 5; a querier blocked by it
            // counts one contention, so the share it shows depends on how many query at once: the threshold is set
            // to what the fixture reliably exceeds), candidate mutex.
            configAdmin.getConfiguration(SYNC_PID, "?").update(new Hashtable<>(Map.of("inject.lock.hold.us", 2000,
                    "inject.hold.every.ms", 5)));
            setSettings(Map.of("default", "sync", "policy.mode", "auto", "policy.window.ms", 1500,
                    "policy.min.queries", 100, "policy.candidate", "mutex", "policy.holddown.ms", 60_000,
                    "policy.promote.contention.percent", 1.0));
            Poll.until("the settings applied", SETTLE, () -> control.status().defaultStrategy(), "sync"::equals);
            awaitStrategy(first, "sync");
            Poll.until("the policy promotes mutex over the contended sync", SETTLE,
                    () -> control.status().defaultStrategy(), "mutex"::equals,
                    d -> d + "; report " + control.report() + "; decisions " + control.decisions());
            PolicyDecision promote = applied().get(0);
            assertEquals(promote.toString(), Action.PROMOTE, promote.verdict().action());
            assertTrue(promote.verdict().reason(), promote.verdict().reason().contains("contention"));
            awaitStrategy(first, "mutex"); // the settings change first, then the policy's thread moves them
            awaitStrategy(second, "mutex");

            // Roll back: sync slow (every query 300 us), canary at 100% with the first peer pinned to mutex as
            // the baseline.
            configAdmin.getConfiguration(SYNC_PID, "?").update(new Hashtable<>(Map.of("inject.query.delay.us",
                    300)));
            setSettings(Map.of("default", "mutex", "canary.strategy", "sync", "canary.percent", 100,
                    "pins", first.getRemoteId().orElseThrow() + "=mutex", "policy.mode", "auto",
                    "policy.window.ms", 1500, "policy.min.queries", 100, "policy.holddown.ms", 60_000));
            // The canary may run only a few windows' ticks before the policy takes it back: wait for the decision,
            // not for a state that may come and go between two polls.
            Poll.until("the policy rolls the slow canary back", SETTLE,
                    () -> applied().stream().filter(d -> d.verdict().action() == Action.ROLLBACK).findFirst(),
                    java.util.Optional::isPresent, d -> "status " + control.status() + "; report " + control.report()
                            + "; decisions " + control.decisions());
            PolicyDecision rollback = applied().get(0);
            assertEquals(rollback.toString(), Action.ROLLBACK, rollback.verdict().action());
            assertTrue(rollback.verdict().reason(), rollback.verdict().reason().contains("p99"));
            assertTrue(rollback.toString(), rollback.verdict().figures().get("canary_queries") >= 100);
            assertTrue("the rollback kept the canary: " + control.status(), !control.status().canary().active());
            awaitStrategy(second, "mutex");

            // No flapping: three more windows, nothing else applied.
            int appliedNow = applied().size();
            long until = System.nanoTime() + Duration.ofMillis(4500).toNanos();
            while (System.nanoTime() < until) {
                assertEquals("the policy acted again: " + control.decisions(), appliedNow, applied().size());
                LockSupport.parkNanos(50_000_000); // a paced watch over three windows, not a wait for a condition
            }
            assertTrue("the canary came back: " + control.status(), !control.status().canary().active());
        } finally {
            stop.set(true);
            queries.join(10_000);
        }
    }

    private List<PolicyDecision> applied() {
        return control.decisions().stream().filter(PolicyDecision::applied).toList();
    }
}
