package org.midimesh.benchmarks;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.Handshake;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Timeout;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Queries under contention: N reader threads (1, 2, 8, 32, 128) query one CONNECTED connection while ONE writer
 * thread keeps changing it. Each thread count is its own {@code @Group}, so the whole range runs in one JMH run for
 * both strategies; the group name says what the readers call and how many there are ({@code getState_r008}: 8 readers
 * of getState plus the writer).
 * <p>The reader's secondary result ({@code ..._read}, ns/op) is the number to read: the latency of one query as the
 * reader thread sees it. The writer's ({@code ..._write}) shows how far the writer got. The writer cycles through: a
 * repeated handshake (no change but the heartbeat time), a heartbeat, a handshake with another device list (the
 * device list is replaced), a heartbeat, a goodbye (DISCONNECTED) and a handshake again (CONNECTED).
 * <p>Between two changes the writer parks for {@link #writerPauseUs} microseconds (default 50; Linux makes that
 * about 50 to 100 us, so some 10,000 changes a second: far more than a mesh makes, one heartbeat per peer per
 * second, yet no overload). {@code -p writerPauseUs=0} runs it flat out, an overload test: a strategy with a bounded
 * command queue then refuses commands, which shows in the fork's summary line and log, not in the reader latency.
 * <p>With more threads than cores, a thread's time per op includes the time it waits for a core: on a 2-core machine
 * the 32 and 128 reader cases measure scheduling as much as the strategy. Compare the strategies with each other at the
 * same thread count, not with the uncontended {@link QueryBenchmark} numbers.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
// A hang guard: an iteration takes 1 s; one that has not ended after 60 s is reported as failed.
@Timeout(time = 60, timeUnit = TimeUnit.SECONDS)
public class ConcurrentQueryBenchmark extends ConnectedRigState {

    /** Pause of the writer between two changes, in microseconds; 0 for none. */
    @Param({"50"})
    public long writerPauseUs;

    /** The writer's position in its cycle; one per writer thread (there is one). */
    @State(Scope.Thread)
    public static class Writer {
        private int step;
        private Handshake current;
        private Handshake other;

        @Setup(Level.Trial)
        public void setUp(ConcurrentQueryBenchmark benchmark) {
            current = benchmark.rig.peerA;
            other = benchmark.rig.peerB;
        }
    }

    /** One step of the writer's cycle (see the class comment). */
    private void write(Writer w) {
        switch (w.step) {
            case 0, 5 -> connection.handshakeCompleted(w.current);
            case 2 -> {
                Handshake next = w.other;
                w.other = w.current;
                w.current = next;
                connection.handshakeCompleted(next);
            }
            case 4 -> connection.goodbyeReceived();
            default -> connection.notifyHeartbeat();
        }
        w.step = w.step == 5 ? 0 : w.step + 1;
        if (writerPauseUs > 0) {
            LockSupport.parkNanos(writerPauseUs * 1000);
        }
    }

    // One group per reader count; JMH fixes a group's thread counts at compile time, hence the repetition.

    @Benchmark
    @Group("getState_r001")
    @GroupThreads(1)
    public ConnectionState getState_r001_read() {
        return connection.getState();
    }

    @Benchmark
    @Group("getState_r001")
    @GroupThreads(1)
    public void getState_r001_write(Writer w) {
        write(w);
    }

    @Benchmark
    @Group("getState_r002")
    @GroupThreads(2)
    public ConnectionState getState_r002_read() {
        return connection.getState();
    }

    @Benchmark
    @Group("getState_r002")
    @GroupThreads(1)
    public void getState_r002_write(Writer w) {
        write(w);
    }

    @Benchmark
    @Group("getState_r008")
    @GroupThreads(8)
    public ConnectionState getState_r008_read() {
        return connection.getState();
    }

    @Benchmark
    @Group("getState_r008")
    @GroupThreads(1)
    public void getState_r008_write(Writer w) {
        write(w);
    }

    @Benchmark
    @Group("getState_r032")
    @GroupThreads(32)
    public ConnectionState getState_r032_read() {
        return connection.getState();
    }

    @Benchmark
    @Group("getState_r032")
    @GroupThreads(1)
    public void getState_r032_write(Writer w) {
        write(w);
    }

    @Benchmark
    @Group("getState_r128")
    @GroupThreads(128)
    public ConnectionState getState_r128_read() {
        return connection.getState();
    }

    @Benchmark
    @Group("getState_r128")
    @GroupThreads(1)
    public void getState_r128_write(Writer w) {
        write(w);
    }

    @Benchmark
    @Group("getRemoteDevices_r001")
    @GroupThreads(1)
    public List<DeviceInfo> getRemoteDevices_r001_read() {
        return connection.getRemoteDevices();
    }

    @Benchmark
    @Group("getRemoteDevices_r001")
    @GroupThreads(1)
    public void getRemoteDevices_r001_write(Writer w) {
        write(w);
    }

    @Benchmark
    @Group("getRemoteDevices_r002")
    @GroupThreads(2)
    public List<DeviceInfo> getRemoteDevices_r002_read() {
        return connection.getRemoteDevices();
    }

    @Benchmark
    @Group("getRemoteDevices_r002")
    @GroupThreads(1)
    public void getRemoteDevices_r002_write(Writer w) {
        write(w);
    }

    @Benchmark
    @Group("getRemoteDevices_r008")
    @GroupThreads(8)
    public List<DeviceInfo> getRemoteDevices_r008_read() {
        return connection.getRemoteDevices();
    }

    @Benchmark
    @Group("getRemoteDevices_r008")
    @GroupThreads(1)
    public void getRemoteDevices_r008_write(Writer w) {
        write(w);
    }

    @Benchmark
    @Group("getRemoteDevices_r032")
    @GroupThreads(32)
    public List<DeviceInfo> getRemoteDevices_r032_read() {
        return connection.getRemoteDevices();
    }

    @Benchmark
    @Group("getRemoteDevices_r032")
    @GroupThreads(1)
    public void getRemoteDevices_r032_write(Writer w) {
        write(w);
    }

    @Benchmark
    @Group("getRemoteDevices_r128")
    @GroupThreads(128)
    public List<DeviceInfo> getRemoteDevices_r128_read() {
        return connection.getRemoteDevices();
    }

    @Benchmark
    @Group("getRemoteDevices_r128")
    @GroupThreads(1)
    public void getRemoteDevices_r128_write(Writer w) {
        write(w);
    }
}
