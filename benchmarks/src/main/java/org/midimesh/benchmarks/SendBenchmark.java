package org.midimesh.benchmarks;

import java.util.concurrent.TimeUnit;

import org.midimesh.api.transport.DataFrame;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Sends per second: {@code send(DataFrame)} of one 3-byte note-on, from one thread, on a CONNECTED connection whose
 * link only counts. The primary score counts every call; the secondary scores split them into {@code accepted}
 * (send returned true) and {@code refused} (false: e.g. a full queue), so a strategy that refuses quickly does not
 * look fast. The accepted rate is the one to compare.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Threads(1)
public class SendBenchmark extends ConnectedRigState {

    private DataFrame frame;

    /** Outcomes of the calls, per thread; JMH reports them as rates next to the primary score. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Outcome {
        public long accepted;
        public long refused;

        @Setup(Level.Iteration)
        public void reset() {
            accepted = 0;
            refused = 0;
        }
    }

    @Override
    protected void connected() {
        frame = rig.noteOn;
    }

    @Benchmark
    public boolean send(Outcome outcome) {
        boolean sent = connection.send(frame);
        if (sent) {
            outcome.accepted++;
        } else {
            outcome.refused++;
        }
        return sent;
    }
}
