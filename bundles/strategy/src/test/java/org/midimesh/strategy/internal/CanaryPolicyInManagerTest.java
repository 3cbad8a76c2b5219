package org.midimesh.strategy.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.midimesh.api.NodeId;
import org.midimesh.api.connection.ConnectionMetrics;
import org.midimesh.api.strategy.PolicyDecision;
import org.midimesh.api.strategy.Verdict.Action;
import org.midimesh.api.test.DeadlockWatchdog;
import org.midimesh.api.test.contract.ControllableHandshaker;
import org.midimesh.api.test.contract.FakePeers;
import org.midimesh.api.test.contract.RecordingPeerLink;

/**
 * The canary policy driving the manager in auto mode, with strategies whose counters the test makes grow: injected
 * contention promotes (through the progressive steps), injected errors roll back, and the hold-down keeps it from
 * flapping. Windows of 400 ms keep it quick; waits are bounded.
 */
@ExtendWith(DeadlockWatchdog.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CanaryPolicyInManagerTest {

    private final List<ManagerHost> hosts = new ArrayList<>();
    private final List<FakeStrategy> strategies = new ArrayList<>();
    private final ScheduledExecutorService pump = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "midimesh-test-metrics-pump");
        t.setDaemon(true);
        return t;
    });

    @AfterEach
    void stop() throws InterruptedException {
        pump.shutdownNow();
        pump.awaitTermination(5, TimeUnit.SECONDS);
        hosts.forEach(ManagerHost::close);
        for (FakeStrategy s : strategies) {
            s.stop();
        }
    }

    private FakeStrategy strategy(String name) {
        FakeStrategy s = new FakeStrategy(name);
        strategies.add(s);
        return s;
    }

    /** Every 20 ms, adds {@code queries}, {@code contentions} and {@code errors} to what the strategy reports. */
    private void grow(FakeStrategy s, long queries, long contentions, long errors) {
        AtomicLong q = new AtomicLong();
        AtomicLong c = new AtomicLong();
        AtomicLong e = new AtomicLong();
        pump.scheduleAtFixedRate(() -> s.report.set(new ConnectionMetrics(s.name(), q.addAndGet(queries),
                c.addAndGet(contentions), 0, 0, 0, ConnectionMetrics.LatencySummary.EMPTY, e.addAndGet(errors), 0,
                0)), 0, 20, TimeUnit.MILLISECONDS);
    }

    private ManagerHost host(Map<String, Object> settings) {
        ManagerHost h = ManagerHost.create("mutex", settings);
        hosts.add(h);
        return h;
    }

    @Test
    void shouldPromoteThroughTheStepsWhenTheDefaultIsContended() {
        FakeStrategy mutex = strategy("mutex");
        FakeStrategy seda = strategy("seda");
        grow(mutex, 1000, 100, 0); // 10% contention
        grow(seda, 1000, 0, 0);
        ManagerHost h = host(Map.of("policy.mode", "auto", "policy.window.ms", "400", "policy.holddown.ms", "0",
                "policy.min.queries", "10", "canary.steps", "50,100"));
        h.add(mutex, 0);
        h.add(seda, 0);
        List<NodeId> peers = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            NodeId p = NodeId.random();
            peers.add(p);
            h.control().open(FakePeers.context(ControllableHandshaker.scripted(), new RecordingPeerLink()))
                    .handshakeCompleted(FakePeers.handshake(p, 1));
        }

        await().atMost(Duration.ofSeconds(30)).until(() -> h.control().status().defaultStrategy().equals("seda"));

        List<String> changes = h.control().decisions().stream().filter(PolicyDecision::applied)
                .map(PolicyDecision::change).toList();
        assertEquals(List.of("default mutex -> seda (canary promoted)", "canary seda 0% -> 50%"), changes);
        assertFalse(h.control().status().canary().active());
        await().atMost(Duration.ofSeconds(10)).until(() -> h.control().status().connections().get("seda") == 20);
        assertTrue(h.control().decisions().get(0).verdict().reason().contains("healthy"),
                h.control().decisions().get(0).toString());
    }

    @Test
    void shouldRollBackACanaryWithErrorsAndNotPromoteItAgainWithinTheHoldDown() {
        FakeStrategy mutex = strategy("mutex");
        FakeStrategy seda = strategy("seda");
        grow(mutex, 1000, 100, 0); // contended: the policy would like seda ...
        grow(seda, 1000, 0, 1); // ... but the seda canary shows errors
        ManagerHost h = host(Map.of("policy.mode", "auto", "policy.window.ms", "400", "policy.holddown.ms",
                "60000", "policy.min.queries", "10", "canary.strategy", "seda", "canary.percent", "50"));
        h.add(mutex, 0);
        h.add(seda, 0);

        await().atMost(Duration.ofSeconds(30)).until(() -> !h.control().status().canary().active());
        PolicyDecision d = h.control().decisions().stream().filter(PolicyDecision::applied).findFirst().orElseThrow();
        assertEquals(Action.ROLLBACK, d.verdict().action());
        assertTrue(d.verdict().reason().contains("errors"), d.verdict().reason());
        assertEquals("canary seda 50% -> 0%", d.change());
        assertTrue(d.verdict().figures().get("canary_errors") > 0, d.verdict().figures().toString());

        // Several windows later nothing else has been applied: contention still says "promote seda", the hold-down
        // (and the rollback of seda) says no.
        long t0 = System.nanoTime();
        await().atMost(Duration.ofSeconds(10)).until(() -> System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(2)
                && h.control().report().verdict().action() == Action.KEEP);
        assertEquals(1, h.control().decisions().stream().filter(PolicyDecision::applied).count(),
                "the policy flapped: " + h.control().decisions());
        assertEquals("mutex", h.control().status().defaultStrategy());
        assertTrue(h.control().report().verdict().reason().contains("rolled back"),
                h.control().report().verdict().reason());
    }

    @Test
    void shouldOnlyRecommendInManualMode() {
        FakeStrategy mutex = strategy("mutex");
        FakeStrategy seda = strategy("seda");
        grow(mutex, 1000, 100, 0);
        grow(seda, 1000, 0, 0);
        ManagerHost h = host(Map.of("policy.window.ms", "400", "policy.min.queries", "10"));
        h.add(mutex, 0);
        h.add(seda, 0);

        await().atMost(Duration.ofSeconds(30)).until(() -> h.control().report().verdict().action() == Action.PROMOTE);
        await().atMost(Duration.ofSeconds(10)).until(() -> !h.control().decisions().isEmpty());
        PolicyDecision d = h.control().decisions().get(0);
        assertEquals(Action.PROMOTE, d.verdict().action());
        assertFalse(d.applied(), "manual mode changed something");
        assertEquals("mutex", h.control().status().defaultStrategy());
        assertTrue(h.control().report().strategies().stream().anyMatch(f -> f.strategy().equals("mutex")
                && f.role().equals("default") && f.contentionPercent() > 9 && f.queries() > 0),
                h.control().report().toString());
    }
}
