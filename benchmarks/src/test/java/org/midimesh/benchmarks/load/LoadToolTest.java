package org.midimesh.benchmarks.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class LoadToolTest {

    @TempDir
    Path dir;

    private String[] withJar(String... args) throws IOException {
        Path jar = Files.writeString(dir.resolve("midimesh.jar"), "x");
        String[] all = new String[args.length + 2];
        all[0] = "--jar";
        all[1] = jar.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        return all;
    }

    @Test
    void shouldEncodeSequenceNumbersAsTheLoadDriverDoes() {
        assertEquals("90 00 00", LoadCodec.hex(0));
        assertEquals("90 00 01", LoadCodec.hex(1));
        assertEquals("90 01 00", LoadCodec.hex(128));
        assertEquals("91 00 00", LoadCodec.hex(16384));
        assertEquals("a0 00 00", LoadCodec.hex(262144));
        assertEquals("ef 7f 7f", LoadCodec.hex(1048575));
        assertThrows(IllegalArgumentException.class, () -> LoadCodec.encode(1 << 20));
    }

    @Test
    void shouldParseEveryOption() throws IOException {
        LoadOptions o = LoadOptions.parse(withJar("--rate", "5000", "--seconds", "3", "--burst", "10000:1",
                "--strategy", "both", "--flip-every", "250", "--peers", "2", "--json", "--mode", "http", "--chord", "3"));
        assertEquals(5000, o.rate());
        assertEquals(3, o.seconds());
        assertEquals(10000, o.burstRate());
        assertEquals(1, o.burstSeconds());
        assertEquals(List.of("mutex", "seda"), o.strategies());
        assertEquals(250, o.flipEveryMs());
        assertEquals(2, o.peers());
        assertTrue(o.json());
        assertEquals("http", o.mode());
        assertEquals(3, o.chord());
    }

    @Test
    void shouldRefuseBadOptionsWithOneLineAndExit2() throws IOException {
        for (String[] bad : List.of(new String[] {"--rate", "x"}, new String[] {"--rate", "-5"},
                new String[] {"--rate"}, new String[] {"--bogus"}, new String[] {"--burst", "100"},
                new String[] {"--strategy", "sync"}, new String[] {"--mode", "udp"},
                new String[] {"--sysex-bytes", "1000"}, new String[] {"--sender", "http://127.0.0.1:1"},
                new String[] {"--rate", "1000000", "--seconds", "2"}, new String[] {"--jar", "/nowhere.jar"},
                new String[] {"--seconds", "2", "--burst", "100:3"})) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            String[] args = bad[0].equals("--jar") ? bad : withJar(bad);
            int code = LoadTool.run(args, new PrintStream(out), new PrintStream(err));
            String text = err.toString(StandardCharsets.UTF_8);
            assertEquals(2, code, () -> String.join(" ", bad) + ": " + text);
            assertEquals(1, text.lines().count(), () -> String.join(" ", bad) + ": " + text);
            assertTrue(text.startsWith("midimesh-load: "), text);
            assertEquals(0, out.size(), "nothing on stdout");
        }
    }

    @Test
    void shouldCountLostDuplicatedAndReorderedMessagesAndMeasureLatency() throws IOException {
        long ms = 1_000_000;
        // Five messages sent 1 ms apart; the receiver gets 0, 2, 1 (reordered), 2 again (duplicate); 3 and 4 lost.
        Path sent = dir.resolve("r.sent");
        try (DataOutputStream d = new DataOutputStream(Files.newOutputStream(sent))) {
            d.writeInt(RunResult.MAGIC);
            d.writeInt(1);
            d.writeInt(1);
            d.writeLong(5);
            for (int i = 0; i < 5; i++) {
                d.writeLong(i * ms);
                d.writeLong(i * ms + 10_000);
            }
        }
        Path received = dir.resolve("r.received");
        try (DataOutputStream d = new DataOutputStream(Files.newOutputStream(received))) {
            d.writeInt(RunResult.MAGIC);
            d.writeInt(1);
            d.writeInt(2);
            d.writeLong(4);
            d.writeLong(7);
            int[] seq = {0, 2, 1, 2};
            long[] at = {110_000, 2 * ms + 210_000, ms + 310_000, 2 * ms + 400_000};
            for (int i = 0; i < 4; i++) {
                d.writeInt(seq[i]);
                d.writeLong(at[i]);
            }
        }
        RunResult r = RunResult.of("seda", 1000, 0.005, RunResult.readSent(sent),
                List.of(RunResult.readReceived(received)), Map.of("load-tx", 1.5),
                Map.of("output_dropped", 0L));
        assertEquals(10.0, ((Map<?, ?>) r.json().get("send_late_us")).get("max"));
        assertEquals(5, r.sent());
        assertEquals(4, r.received());
        assertEquals(2, r.lost());
        assertEquals(1, r.duplicated());
        assertEquals(1, r.reordered());
        assertEquals(7, r.foreign());
        assertEquals(100, r.us(0), 0.5, "fastest: 110 us after due, 10 us after sent");
        assertEquals(300, r.maxUs(), 0.5);
        // arrival - due of the first arrivals: 110, 210, 310 us: standard deviation 81.6 us
        assertEquals(81.6, r.jitterUs(), 0.1);
        // latency of the first arrivals: 100, 200, 300 us: the same spread without the sender's 10 us
        assertEquals(81.6, r.latencySdUs(), 0.5);
        assertEquals(r.latencySdUs(), (Double) r.json().get("latency_sd_us"), 0.05);
        assertEquals(1.5, r.cpuTotal());
        // HdrHistogram keeps 3 significant digits: 200 us reads back as up to 200.1
        Map<?, ?> latency = (Map<?, ?>) r.json().get("latency_us");
        Map<String, Double> expected = Map.of("p50", 200.0, "p90", 300.0, "p99", 300.0, "p999", 300.0, "max", 300.0);
        expected.forEach((k, v) -> assertEquals(v, (Double) latency.get(k), 0.25, k));
    }

    @Test
    void shouldRefuseAFileThatIsNotALoadDriverFile() throws IOException {
        Path f = Files.write(dir.resolve("x.sent"), new byte[] {1, 2, 3, 4, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
                0});
        assertThrows(IOException.class, () -> RunResult.readSent(f));
    }

    @Test
    void shouldMergeTheBurstIntoTheScheduleInDueOrder() throws IOException {
        LoadOptions o = LoadOptions.parse(withJar("--rate", "10", "--seconds", "2", "--burst", "20:1"));
        long[] due = newTool(o).schedule(0);
        assertEquals(40, due.length);
        for (int i = 1; i < due.length; i++) {
            assertTrue(due[i] >= due[i - 1], "due times grow at " + i);
        }
        assertEquals(0, due[0]);
        // the burst starts at 0.5 s: 20 a second on top of 10
        long inBurst = java.util.Arrays.stream(due).filter(t -> t >= 500_000_000L && t < 1_500_000_000L).count();
        assertEquals(30, inBurst);
    }

    private static LoadTool newTool(LoadOptions o) {
        try {
            var c = LoadTool.class.getDeclaredConstructor(LoadOptions.class, PrintStream.class, PrintStream.class);
            c.setAccessible(true);
            return c.newInstance(o, System.out, System.err);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void shouldPrintUsageForHelp() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, LoadTool.run(new String[] {"--help"}, new PrintStream(out), System.err));
        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("usage: "));
    }
}
