package org.midimesh.itests.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Hot swap end to end, on real midimesh.jar processes: MIDI from two producers keeps arriving once and in order per
 * producer while the default strategy flips forty times on both nodes; the chosen strategy survives a restart (and an
 * explicit {@code --strategy} wins over it); {@code --shell} runs a midimesh command.
 */
@ExtendWith(NodeLogsOnFailure.class)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class StrategySwapE2EIT {

    private static final int PRODUCERS = 2;
    private static final int PER_PRODUCER = 10_000;
    private static final int BATCH = 20;
    private static final int FLIPS = 40;

    private Cluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /**
     * A route from a's input 1 to b's output 2, once a knows b's devices (until issue 10, a route to a peer whose
     * devices are not known yet is refused).
     */
    private static void route(MidiMeshProcess a, MidiMeshProcess b) {
        E2E.await("a route from a to b", Duration.ofSeconds(10)).until(() -> a.postJson("/routing/routes",
                E2E.routeBody("local", 1, b.uuid(), 2)).status() == 201);
    }

    /** Note on, channel = producer, key and velocity = the low and high 7 bits of the sequence number. */
    private static String message(int producer, int seq) {
        return String.format("%02x %02x %02x", 0x90 | producer, seq & 0x7f, (seq >> 7) & 0x7f);
    }

    @Test
    void everyMessageArrivesOnceInOrderPerProducerWhileTheDefaultFlipsFortyTimes() throws InterruptedException {
        cluster = new Cluster(StrategySwapE2EIT.class, "flips");
        MidiMeshProcess a = cluster.start("swap-a");
        MidiMeshProcess b = cluster.start("swap-b", "--peer", a.peerAddress());
        E2E.await("a and b connected", Duration.ofSeconds(20)).untilAsserted(() -> {
            E2E.assertConnectedExactly(a, b);
            E2E.assertConnectedExactly(b, a);
        });
        route(a, b);
        E2E.await("the route is usable", Duration.ofSeconds(10)).until(() -> {
            a.postJson("/midi/devices/1/send", E2E.sendBody(List.of("b0 7b 00")));
            return E2E.receivedTotal(b, 2) >= 1;
        });
        long base = E2E.receivedTotal(b, 2);

        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        AtomicInteger batchesSent = new AtomicInteger();
        List<Thread> producers = new ArrayList<>();
        for (int p = 0; p < PRODUCERS; p++) {
            int producer = p;
            Thread t = new Thread(() -> {
                for (int seq = 0; seq < PER_PRODUCER; seq += BATCH) {
                    List<String> batch = new ArrayList<>(BATCH);
                    for (int i = seq; i < seq + BATCH; i++) {
                        batch.add(message(producer, i));
                    }
                    MidiMeshProcess.Response r = a.postJson("/midi/devices/1/send", E2E.sendBody(batch));
                    if (r.status() != 202) {
                        problems.add("producer " + producer + " batch at " + seq + ": " + r);
                        return;
                    }
                    batchesSent.incrementAndGet();
                }
            }, "e2e-producer-" + p);
            producers.add(t);
        }
        producers.forEach(Thread::start);
        List<Long> tookMs = new ArrayList<>();
        int total = PRODUCERS * PER_PRODUCER / BATCH;
        for (int flip = 0; flip < FLIPS; flip++) {
            int target = (flip + 1) * total / (FLIPS + 1);
            E2E.await("the producers get on", Duration.ofSeconds(60), Duration.ofMillis(5))
                    .until(() -> batchesSent.get() >= target || producers.stream().noneMatch(Thread::isAlive));
            String strategy = flip % 2 == 0 ? "seda" : "mutex";
            MidiMeshProcess node = flip % 4 < 2 ? a : b; // a flips on even pairs, b in between, both every time
            for (MidiMeshProcess n : List.of(node, node == a ? b : a)) {
                MidiMeshProcess.Response r = n.putJson("/strategy", "{\"default\": \"" + strategy + "\"}");
                assertEquals(200, r.status(), () -> "PUT /strategy on " + n + ": " + r);
                assertEquals(0, r.path("failures").size(), () -> "moves that failed: " + r);
                tookMs.add(r.path("took_ms").asLong());
            }
        }
        for (Thread t : producers) {
            t.join(TimeUnit.SECONDS.toMillis(120));
        }
        assertEquals(List.of(), List.copyOf(problems));
        long expected = base + (long) PRODUCERS * PER_PRODUCER;
        E2E.await("b got every message", Duration.ofSeconds(30)).until(() -> E2E.receivedTotal(b, 2) >= expected);

        List<E2E.Received> got = E2E.receivedAfter(b, 2, base, 5000);
        int[] next = new int[PRODUCERS];
        for (E2E.Received r : got) {
            int status = Integer.parseInt(r.data().substring(0, 2), 16);
            int producer = status & 0x0f;
            int seq = Integer.parseInt(r.data().substring(2, 4), 16) | Integer.parseInt(r.data().substring(4, 6), 16) << 7;
            assertTrue(producer < PRODUCERS, () -> "a message nobody sent: " + r);
            assertEquals(next[producer], seq, "producer " + producer + ": lost, duplicated or reordered at " + r);
            next[producer]++;
        }
        for (int p = 0; p < PRODUCERS; p++) {
            assertEquals(PER_PRODUCER, next[p], "producer " + p + " messages missing");
        }
        assertEquals(expected, E2E.receivedTotal(b, 2), "duplicates arrived late");
        E2E.assertConnectedExactly(a, b);
        E2E.assertConnectedExactly(b, a);
        System.out.printf("[e2e] %d messages from %d producers across %d flips on each node: all once, in order; "
                + "PUT /strategy took %s ms%n", PRODUCERS * PER_PRODUCER, PRODUCERS, FLIPS, tookMs);
    }

    @Test
    void theChosenStrategySurvivesARestartAndAnExplicitOptionWins() {
        cluster = new Cluster(StrategySwapE2EIT.class, "restart");
        MidiMeshProcess a = cluster.start("keep-a");
        assertEquals("mutex", a.strategy());
        MidiMeshProcess.Response r = a.putJson("/strategy", "{\"default\": \"seda\"}");
        assertEquals(200, r.status(), () -> "PUT /strategy: " + r);
        int code = a.sigterm(Duration.ofSeconds(10)).code();
        assertTrue(code == 0 || code == 143, "exit code " + code);

        MidiMeshProcess again = cluster.restart(a);
        assertEquals("seda", again.strategy(), "the ready line after a restart");
        assertEquals("seda", again.getJson("/strategy").path("default").asText());
        again.sigterm(Duration.ofSeconds(10));

        MidiMeshProcess explicit = cluster.start("keep-a", "--strategy", "mutex");
        assertEquals("mutex", explicit.strategy(), "--strategy wins over the kept choice");
        assertEquals("mutex", explicit.getJson("/strategy").path("default").asText());
    }

    @Test
    void theShellRunsAMidimeshCommand() {
        cluster = new Cluster(StrategySwapE2EIT.class, "shell");
        MidiMeshProcess a = cluster.start("shell-a", "--shell");
        a.type("midimesh:strategy");
        E2E.await("the shell shows the strategies", Duration.ofSeconds(20))
                .until(() -> a.stdout().stream().anyMatch(l -> l.contains("available") && l.contains("seda")));
        a.type("midimesh:strategy seda");
        E2E.await("the shell changed the default", Duration.ofSeconds(20))
                .until(() -> a.stdout().stream().anyMatch(l -> l.contains("default -> seda")));
        assertEquals("seda", a.getJson("/strategy").path("default").asText());
        a.type("lb -s");
        E2E.await("the standard bundle commands", Duration.ofSeconds(20))
                .until(() -> a.stdout().stream().anyMatch(l -> l.contains("org.midimesh.strategy")));
        long t0 = System.nanoTime();
        a.endInput(); // end of input ends the shell, and the node with it
        MidiMeshProcess.Exit exit = a.awaitExit(Duration.ofSeconds(10), t0);
        assertTrue(exit.exited(), "the node kept running after the shell's input ended");
        assertEquals(0, exit.code());
        assertEquals(1, a.stdout().stream().filter(l -> l.startsWith("midimesh ready")).count());
    }

    /** interface.md: a strategy bundle copied into deploy/ is installed within 2 s; deleting it uninstalls it. */
    @Test
    void aStrategyBundleCopiedIntoDeployRunsConnectionsAndTheyMoveAwayWhenItIsDeleted() throws Exception {
        java.nio.file.Path jar = java.nio.file.Path.of(System.getProperty("itest.sync.bundle", "none"));
        assertTrue(java.nio.file.Files.isRegularFile(jar), "the sync strategy's jar (itest.sync.bundle): " + jar);
        cluster = new Cluster(StrategySwapE2EIT.class, "deploy");
        MidiMeshProcess a = cluster.start("deploy-a");
        MidiMeshProcess b = cluster.start("deploy-b", "--peer", a.peerAddress());
        E2E.await("a and b connected", Duration.ofSeconds(20)).untilAsserted(() -> E2E.assertConnectedExactly(a, b));
        java.nio.file.Path deployed = a.spec().dataDir().resolve("deploy").resolve("strategy-sync.jar");
        java.nio.file.Files.copy(jar, deployed);
        E2E.await("sync available", Duration.ofSeconds(5)).until(() -> a.getJson("/strategy").path("available")
                .toString().contains("\"sync\""));

        MidiMeshProcess.Response r = a.putJson("/strategy", "{\"default\": \"sync\"}");
        assertEquals(200, r.status(), () -> "PUT /strategy: " + r);
        assertEquals(1, r.path("migrated").asInt(), () -> "PUT /strategy: " + r);
        assertEquals("sync", E2E.meshEntries(a, b.uuid()).get(0).path("strategy").asText());
        route(a, b);
        long base = E2E.receivedTotal(b, 2);
        a.postJson("/midi/devices/1/send", E2E.sendBody(List.of("90 3c 64", "80 3c 00")));
        E2E.await("MIDI through the sync strategy", Duration.ofSeconds(5)).until(() -> E2E.receivedTotal(b, 2)
                >= base + 2);

        java.nio.file.Files.delete(deployed); // uninstalled: its connection moves to what remains first
        E2E.await("the connection left sync", Duration.ofSeconds(5)).until(() -> "mutex".equals(
                E2E.meshEntries(a, b.uuid()).get(0).path("strategy").asText()));
        assertEquals("connected", E2E.meshState(a, b.uuid()));
        assertTrue(!a.getJson("/strategy").path("available").toString().contains("\"sync\""));
        assertEquals("degraded", a.getJson("/health").path("status").asText(), "the default sync is gone");
        a.postJson("/midi/devices/1/send", E2E.sendBody(List.of("90 3d 64")));
        E2E.await("MIDI after the strategy left", Duration.ofSeconds(5)).until(() -> E2E.receivedTotal(b, 2)
                >= base + 3);
    }
}
