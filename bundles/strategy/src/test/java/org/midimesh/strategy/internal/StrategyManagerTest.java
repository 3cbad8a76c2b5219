package org.midimesh.strategy.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.midimesh.api.NodeId;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.strategy.Canary;
import org.midimesh.api.strategy.PolicyDecision;
import org.midimesh.api.strategy.StrategyChange;
import org.midimesh.api.strategy.SwapResult;
import org.midimesh.api.strategy.Verdict.Action;
import org.midimesh.api.test.DeadlockWatchdog;
import org.midimesh.api.test.contract.ControllableHandshaker;
import org.midimesh.api.test.contract.FakePeers;
import org.midimesh.api.test.contract.RecordingConnectionListener;
import org.midimesh.api.test.contract.RecordingPeerLink;

@ExtendWith(DeadlockWatchdog.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StrategyManagerTest {

    private final List<ManagerHost> hosts = new ArrayList<>();
    private final List<FakeStrategy> strategies = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        hosts.forEach(ManagerHost::close);
        for (FakeStrategy s : strategies) {
            s.stop();
        }
    }

    private ManagerHost host(String def, Map<String, ?> settings) {
        ManagerHost h = ManagerHost.create(def, settings);
        hosts.add(h);
        return h;
    }

    private FakeStrategy strategy(String name) {
        FakeStrategy s = new FakeStrategy(name);
        strategies.add(s);
        return s;
    }

    private static NetworkConnection connected(ManagerHost h, NodeId peer, RecordingPeerLink link) {
        NetworkConnection c = h.control().open(FakePeers.context(ControllableHandshaker.scripted(), link));
        c.handshakeCompleted(FakePeers.handshake(peer, 1));
        await().atMost(Duration.ofSeconds(10)).until(() -> c.getState() == ConnectionState.CONNECTED);
        return c;
    }

    @Test
    void shouldRunConnectionsOnTheDefaultAndMoveThemWhenItChanges() {
        ManagerHost h = host("mutex", Map.of());
        FakeStrategy mutex = strategy("mutex");
        FakeStrategy seda = strategy("seda");
        h.add(mutex, 0);
        h.add(seda, 0);
        RecordingPeerLink link = new RecordingPeerLink();
        List<NetworkConnection> cs = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            cs.add(connected(h, NodeId.random(), link));
        }
        assertTrue(cs.stream().allMatch(c -> c.strategy().equals("mutex")));

        SwapResult r = h.control().change(StrategyChange.toDefault("seda"));

        assertEquals(10, r.migrated());
        assertEquals(List.of(), r.failures());
        assertTrue(cs.stream().allMatch(c -> c.strategy().equals("seda") && c.getState() == ConnectionState.CONNECTED));
        assertEquals(10, seda.adopted.get());
        assertEquals(Map.of("mutex", 0, "seda", 10), h.control().status().connections());
        await().atMost(Duration.ofSeconds(10)).until(() -> !h.control().report().strategies().isEmpty());
        assertTrue(h.control().report().strategies().stream().anyMatch(f -> f.strategy().equals("seda")
                && f.role().equals("default") && f.connections() == 10), "the report does not show the change at once: "
                + h.control().report());
        assertEquals(0, h.control().change(StrategyChange.toDefault("seda")).migrated(), "nothing left to move");
    }

    @Test
    void shouldRefuseAnUnknownStrategyNamingTheFieldAndChangeNothing() {
        ManagerHost h = host("mutex", Map.of());
        h.add(strategy("mutex"), 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> h.control().change(StrategyChange.toDefault("seda")));
        assertTrue(e.getMessage().startsWith("default"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> h.control().change(StrategyChange.toCanary(new Canary("nope", 10, List.of()))));
        assertTrue(e.getMessage().startsWith("canary.strategy"), e.getMessage());
        assertEquals("mutex", h.control().status().defaultStrategy());
        assertFalse(h.control().status().canary().active());
    }

    @Test
    void shouldPutAStableShareOfPeersInTheCanary() {
        ManagerHost h = host("mutex", Map.of());
        h.add(strategy("mutex"), 0);
        h.add(strategy("seda"), 0);
        h.control().change(StrategyChange.toCanary(new Canary("seda", 30, List.of())));
        RecordingPeerLink link = new RecordingPeerLink();
        Map<NodeId, NetworkConnection> cs = new HashMap<>();
        for (int i = 0; i < 60; i++) {
            NodeId peer = NodeId.random();
            cs.put(peer, connected(h, peer, link));
        }
        h.awaitIdle(); // a connection moves once its peer is known
        await().atMost(Duration.ofSeconds(10)).until(() -> cs.entrySet().stream().allMatch(e -> e.getValue()
                .strategy().equals(StrategyManager.bucket(e.getKey()) < 30 ? "seda" : "mutex")));

        h.control().change(StrategyChange.toCanary(new Canary("seda", 60, List.of())));
        cs.forEach((peer, c) -> assertEquals(StrategyManager.bucket(peer) < 60 ? "seda" : "mutex", c.strategy()));
        h.control().change(StrategyChange.toCanary(Canary.NONE));
        cs.values().forEach(c -> assertEquals("mutex", c.strategy()));
    }

    @Test
    void shouldHashPeersIntoBucketsThatNeverChange() {
        // docs/operations.md gives the formula; these values must stay what they are across versions.
        assertEquals(StrategyManager.bucket(NodeId.parse("11111111-2222-3333-4444-555555555555")),
                StrategyManager.bucket(NodeId.parse("11111111222233334444555555555555")));
        int[] hist = new int[10];
        for (int i = 0; i < 10_000; i++) {
            int b = StrategyManager.bucket(NodeId.random());
            assertTrue(b >= 0 && b < 100);
            hist[b / 10]++;
        }
        for (int n : hist) {
            assertTrue(n > 700 && n < 1300, "buckets are not spread evenly: " + java.util.Arrays.toString(hist));
        }
    }

    @Test
    void shouldPinAConnectionUntilThePinIsRemoved() {
        ManagerHost h = host("mutex", Map.of());
        h.add(strategy("mutex"), 0);
        h.add(strategy("seda"), 0);
        NodeId peer = NodeId.random();
        NetworkConnection c = connected(h, peer, new RecordingPeerLink());
        NetworkConnection other = connected(h, NodeId.random(), new RecordingPeerLink());

        assertEquals(1, h.control().pin(peer, "seda").migrated());
        assertEquals("seda", c.strategy());
        assertEquals("mutex", other.strategy());
        assertEquals(Map.of(peer, "seda"), h.control().status().pins());
        assertThrows(NoSuchElementException.class, () -> h.control().pin(NodeId.random(), "seda"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> h.control().pin(peer, "x"));
        assertTrue(e.getMessage().startsWith("strategy"), e.getMessage());
        h.control().change(StrategyChange.toDefault("seda"));
        h.control().change(StrategyChange.toDefault("mutex"));
        assertEquals("seda", c.strategy(), "a pin outlasts default changes");

        assertEquals(1, h.control().unpin(peer).migrated());
        assertEquals("mutex", c.strategy());
        assertThrows(NoSuchElementException.class, () -> h.control().unpin(NodeId.random()));
    }

    @Test
    void shouldKeepTheSettingsInItsFileAndStartFromThem() throws Exception {
        ManagerHost h = host("mutex", Map.of());
        h.add(strategy("mutex"), 0);
        h.add(strategy("seda"), 0);
        NodeId peer = NodeId.random();
        connected(h, peer, new RecordingPeerLink());
        h.control().change(new StrategyChange(Optional.of("seda"),
                Optional.of(new Canary("mutex", 20, List.of(20, 50)))));
        h.control().pin(peer, "mutex");
        Path cfg = h.etcDir().resolve(SettingsFile.FILE_NAME);
        String text = Files.readString(cfg, StandardCharsets.UTF_8);
        assertTrue(text.contains("default = seda\n") && text.contains("canary.percent = 20\n")
                && text.contains("pins = " + peer + "=mutex\n"), text);
        try (Stream<Path> left = Files.list(h.etcDir())) {
            assertEquals(List.of(cfg), left.toList(), "temporary files left beside the settings");
        }

        StrategyManager again = new StrategyManager(new StrategyManager.Environment(h.etcDir(), Optional.empty(),
                () -> false), Map.of("default", "mutex"));
        try {
            assertEquals("seda", again.status().defaultStrategy(), "the file wins over ConfigAdmin");
            assertEquals(20, again.status().canary().percent());
            assertEquals(Map.of(peer, "mutex"), again.status().pins());
        } finally {
            again.deactivate();
        }
        StrategyManager explicit = new StrategyManager(new StrategyManager.Environment(h.etcDir(),
                Optional.of("mutex"), () -> false), Map.of());
        try {
            assertEquals("mutex", explicit.status().defaultStrategy(), "--strategy wins over the file");
            assertTrue(Files.readString(cfg).contains("default = mutex\n"), "the choice is written back");
        } finally {
            explicit.deactivate();
        }
    }

    @Test
    void shouldStartFromTheDefaultsBesideAnUnreadableFileAndMoveItAsideAtTheNextChange(@TempDir Path dir)
            throws Exception {
        Path etc = dir.resolve("etc");
        Files.createDirectories(etc);
        Path cfg = etc.resolve(SettingsFile.FILE_NAME);
        Files.writeString(cfg, "default = seda\ncanary.percent = 500\n");
        StrategyManager m = new StrategyManager(new StrategyManager.Environment(etc, Optional.empty(), () -> false),
                Map.of());
        try {
            assertEquals("mutex", m.status().defaultStrategy());
            assertEquals("default = seda\ncanary.percent = 500\n", Files.readString(cfg), "the bad file was replaced");
            FakeStrategy seda = strategy("seda");
            m.bindStrategy(seda, Map.of("strategy", "seda", "service.id", 1L));
            m.change(StrategyChange.toDefault("seda"));
            assertTrue(Files.readString(cfg).contains("default = seda\n"));
            try (Stream<Path> files = Files.list(etc)) {
                assertEquals(1, files.filter(p -> p.getFileName().toString().contains(".corrupt-")).count(),
                        "the unreadable file was not kept aside");
            }
        } finally {
            m.deactivate();
        }
    }

    @Test
    void shouldApplyAChangeOfItsConfigurationAndRefuseABadOne() {
        ManagerHost h = host("mutex", Map.of());
        h.add(strategy("mutex"), 0);
        h.add(strategy("seda"), 0);
        NetworkConnection c = connected(h, NodeId.random(), new RecordingPeerLink());

        h.manager().modified(Map.of("default", "seda")); // through ConfigAdmin
        h.awaitIdle();
        assertEquals("seda", c.strategy());
        h.manager().modified(Map.of("default", "seda", "canary.percent", "101"));
        h.awaitIdle();
        assertEquals("seda", h.control().status().defaultStrategy(), "a bad configuration changed something");
        assertFalse(h.control().status().canary().active());
    }

    @Test
    void shouldRollBackTheCanaryAndThePreviousDefault() {
        ManagerHost h = host("mutex", Map.of());
        h.add(strategy("mutex"), 0);
        h.add(strategy("seda"), 0);
        List<NetworkConnection> cs = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            cs.add(connected(h, NodeId.random(), new RecordingPeerLink()));
        }
        h.control().change(StrategyChange.toDefault("seda"));
        h.control().change(StrategyChange.toCanary(new Canary("mutex", 50, List.of())));

        SwapResult r = h.control().rollback("the test says so");

        assertEquals("mutex", h.control().status().defaultStrategy());
        assertFalse(h.control().status().canary().active());
        assertTrue(cs.stream().allMatch(c -> c.strategy().equals("mutex")));
        assertTrue(r.migrated() > 0);
        PolicyDecision d = h.control().decisions().get(0);
        assertEquals("operator", d.source());
        assertEquals(Action.ROLLBACK, d.verdict().action());
        assertTrue(d.applied());
        assertEquals("the test says so", d.verdict().reason());
        assertTrue(d.change().contains("default seda -> mutex"), d.change());
        SwapResult again = h.control().rollback("again");
        assertEquals(0, again.migrated(), "a second rollback flips back");
        assertFalse(h.control().decisions().get(0).applied());
    }

    @Test
    void shouldMoveTheConnectionsOfALeavingStrategyAndKeepThemWithNoneLeft() {
        ManagerHost h = host("seda", Map.of());
        FakeStrategy seda = strategy("seda");
        FakeStrategy mutex = strategy("mutex");
        h.add(seda, 0);
        h.add(mutex, 0);
        RecordingPeerLink link = new RecordingPeerLink();
        RecordingConnectionListener l = new RecordingConnectionListener();
        NetworkConnection c = connected(h, NodeId.random(), link);
        c.addListener(l);
        assertEquals("seda", c.strategy());

        h.remove(seda);
        assertEquals("mutex", c.strategy(), "moved to what remains");
        assertTrue(h.control().status().degraded().orElseThrow().contains("default strategy seda"));
        h.remove(mutex);
        assertEquals(Slot.NONE, c.strategy());
        assertEquals(ConnectionState.CONNECTED, c.getState());
        assertFalse(c.send(FakePeers.numberedFrame(1)));
        assertTrue(h.control().status().degraded().orElseThrow().startsWith("no connection strategy"));
        assertEquals(Map.of(Slot.NONE, 1), h.control().status().connections());

        h.add(seda, 0);
        assertEquals("seda", c.strategy());
        assertTrue(c.send(FakePeers.numberedFrame(2)));
        assertEquals(List.of(2), link.frameNumbers());
        assertEquals(List.of(), l.states(), "listeners saw the moves");
        assertTrue(h.control().status().degraded().isEmpty());
    }

    @Test
    void shouldLetAHigherRankedServiceOfTheSameNameTakeOverItsConnections() {
        ManagerHost h = host("mutex", Map.of());
        FakeStrategy blue = strategy("mutex");
        FakeStrategy green = strategy("mutex");
        h.add(blue, 0);
        NetworkConnection c = connected(h, NodeId.random(), new RecordingPeerLink());
        h.add(green, 10);
        assertEquals(1, green.adopted.get());
        assertTrue(blue.open.isEmpty());
        h.remove(green);
        assertEquals(1, blue.adopted.get(), "back to the lower-ranked service when the new build goes");
        assertEquals(ConnectionState.CONNECTED, c.getState());
    }

    @Test
    void shouldWaitForTheDefaultDuringTheStartUpGrace() {
        ManagerHost h = host("seda", Map.of("grace.ms", 60_000L));
        FakeStrategy mutex = strategy("mutex");
        FakeStrategy seda = strategy("seda");
        h.add(mutex, 0);
        NetworkConnection c = h.control().open(FakePeers.context(ControllableHandshaker.scripted(),
                new RecordingPeerLink()));
        c.connect();
        assertEquals(Slot.NONE, c.strategy(), "took the strategy that happened to come first");
        assertEquals(ConnectionState.CONNECTING, c.getState());
        h.add(seda, 0);
        assertEquals("seda", c.strategy());
        assertEquals(0, mutex.created.get() + mutex.adopted.get());
        assertEquals(ConnectionState.CONNECTING, c.getState());
    }

    @Test
    void shouldApplyWhatTheFileSaysNowWhenFileInstallDeliversAStaleReading() throws Exception {
        ManagerHost h = host("mutex", Map.of());
        h.add(strategy("mutex"), 0);
        h.add(strategy("seda"), 0);
        NetworkConnection c = connected(h, NodeId.random(), new RecordingPeerLink());
        Path cfg = h.etcDir().resolve(SettingsFile.FILE_NAME);
        Files.writeString(cfg, Files.readString(cfg).replace("default = mutex", "default = seda")); // a person edits

        // FileInstall read the file before the edit (or before one of our own writes) and delivers that now.
        h.manager().modified(Map.of("default", "mutex", "felix.fileinstall.filename", cfg.toUri().toString()));
        h.awaitIdle();

        assertEquals("seda", h.control().status().defaultStrategy(), "a stale reading overrode the file");
        assertEquals("seda", c.strategy());
    }
}
