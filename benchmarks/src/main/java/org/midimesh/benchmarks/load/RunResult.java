package org.midimesh.benchmarks.load;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.HdrHistogram.Histogram;

/**
 * What one run measured, from the sender's schedule (when each message was due and handed to the node) and each
 * receiver's arrivals (which message, when its output played it). Both sides read {@code System.nanoTime()} of one
 * machine, so an arrival minus its send time is the one-way latency. Immutable once built.
 *
 * @param sent       messages sent (each goes to every receiver)
 * @param received   arrivals of known messages at all receivers, duplicates included
 * @param lost       expected arrivals (sent times receivers) that never came
 * @param duplicated arrivals of a message a receiver had already seen
 * @param reordered  arrivals of a message older than one the receiver had already seen
 * @param latency    one-way latency of the first arrival of each message, in nanoseconds
 * @param jitterUs   standard deviation of (arrival - due time), in microseconds
 * @param sendLate   how late the sender handed each message over against its schedule, in nanoseconds (the
 *                   generator's own lateness: on a busy machine its thread wakes late; included in the jitter)
 * @param drops      where messages were dropped inside the nodes during the run: {@code output_dropped} (the
 *                   receivers' Load Rec queues) and {@code realtime_drops} (the nodes' transports)
 */
record RunResult(String strategy, double rate, double seconds, long sent, long received, long lost, long duplicated,
        long reordered, long foreign, Histogram latency, double jitterUs, Histogram sendLate, Map<String, Double> cpuSeconds,
        Map<String, Long> drops) {

    static final int MAGIC = 0x4C4F4144;

    /** The sender side: due and send times by sequence number. */
    record Schedule(long[] due, long[] sent) {
    }

    /** One receiver's arrivals, in arrival order. */
    record Arrivals(int[] seq, long[] at, long foreign) {
    }

    static Schedule readSent(Path file) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
            header(in, file, 1);
            int n = count(in, file);
            long[] due = new long[n];
            long[] sent = new long[n];
            for (int i = 0; i < n; i++) {
                due[i] = in.readLong();
                sent[i] = in.readLong();
            }
            return new Schedule(due, sent);
        }
    }

    static Arrivals readReceived(Path file) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
            header(in, file, 2);
            int n = count(in, file);
            long foreign = in.readLong();
            int[] seq = new int[n];
            long[] at = new long[n];
            for (int i = 0; i < n; i++) {
                seq[i] = in.readInt();
                at[i] = in.readLong();
            }
            return new Arrivals(seq, at, foreign);
        }
    }

    private static void header(DataInputStream in, Path file, int kind) throws IOException {
        int magic = in.readInt();
        int version = in.readInt();
        int k = in.readInt();
        if (magic != MAGIC || version != 1 || k != kind) {
            throw new IOException(file + ": not a load driver file of kind " + kind + " (magic " + Integer.toHexString(
                    magic) + ", version " + version + ", kind " + k + ")");
        }
    }

    private static int count(DataInputStream in, Path file) throws IOException {
        long n = in.readLong();
        if (n < 0 || n > LoadCodec.LIMIT * 16L) {
            throw new IOException(file + ": implausible count " + n);
        }
        return (int) n;
    }

    /** Puts one run's numbers together. */
    static RunResult of(String strategy, double rate, double seconds, Schedule s, List<Arrivals> receivers,
            Map<String, Double> cpu, Map<String, Long> drops) {
        int n = s.sent().length;
        Histogram sendLate = new Histogram(60_000_000_000L, 3);
        for (int i = 0; i < n; i++) {
            sendLate.recordValue(Math.max(0, s.sent()[i] - s.due()[i]));
        }
        Histogram latency = new Histogram(60_000_000_000L, 3);
        long received = 0;
        long duplicated = 0;
        long reordered = 0;
        long foreign = 0;
        long unique = 0;
        double sum = 0;
        double sumSq = 0;
        long jitterCount = 0;
        for (Arrivals a : receivers) {
            boolean[] seen = new boolean[n];
            int highest = -1;
            foreign += a.foreign();
            for (int i = 0; i < a.seq().length; i++) {
                int q = a.seq()[i];
                if (q < 0 || q >= n) {
                    foreign++;
                    continue;
                }
                received++;
                if (seen[q]) {
                    duplicated++;
                    continue;
                }
                seen[q] = true;
                unique++;
                if (q < highest) {
                    reordered++;
                }
                highest = Math.max(highest, q);
                latency.recordValue(Math.max(0, a.at()[i] - s.sent()[q]));
                double late = (a.at()[i] - s.due()[q]) / 1_000.0;
                sum += late;
                sumSq += late * late;
                jitterCount++;
            }
        }
        double jitter = 0;
        if (jitterCount > 1) {
            double mean = sum / jitterCount;
            jitter = Math.sqrt(Math.max(0, sumSq / jitterCount - mean * mean));
        }
        long lost = (long) n * receivers.size() - unique;
        return new RunResult(strategy, rate, seconds, n, received, lost, duplicated, reordered, foreign, latency,
                jitter, sendLate, new LinkedHashMap<>(cpu), new LinkedHashMap<>(drops));
    }

    double cpuTotal() {
        return cpuSeconds.values().stream().mapToDouble(Double::doubleValue).sum();
    }

    double us(double percentile) {
        return latency.getTotalCount() == 0 ? 0 : latency.getValueAtPercentile(percentile) / 1_000.0;
    }

    /**
     * Standard deviation of the one-way latency, in microseconds: the path's own jitter, without the sender's
     * lateness that {@link #jitterUs} includes.
     */
    double latencySdUs() {
        return latency.getTotalCount() == 0 ? 0 : latency.getStdDeviation() / 1_000.0;
    }

    double maxUs() {
        return latency.getTotalCount() == 0 ? 0 : latency.getMaxValue() / 1_000.0;
    }

    /** The object of the {@code --json} line. */
    Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rate", rate);
        m.put("seconds", seconds);
        m.put("strategy", strategy);
        m.put("sent", sent);
        m.put("received", received);
        m.put("lost", lost);
        m.put("duplicated", duplicated);
        m.put("reordered", reordered);
        Map<String, Object> lat = new LinkedHashMap<>();
        lat.put("p50", round(us(50)));
        lat.put("p90", round(us(90)));
        lat.put("p99", round(us(99)));
        lat.put("p999", round(us(99.9)));
        lat.put("max", round(maxUs()));
        m.put("latency_us", lat);
        m.put("jitter_us", round(jitterUs));
        m.put("latency_sd_us", round(latencySdUs()));
        Map<String, Object> late = new LinkedHashMap<>();
        late.put("p50", round(sendLate.getValueAtPercentile(50) / 1_000.0));
        late.put("p99", round(sendLate.getValueAtPercentile(99) / 1_000.0));
        late.put("max", round(sendLate.getMaxValue() / 1_000.0));
        m.put("send_late_us", late);
        m.putAll(drops);
        m.put("cpu_s", cpuSeconds.isEmpty() ? null : round(cpuTotal()));
        m.put("cpu_s_by_node", cpuSeconds);
        return m;
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }
}
