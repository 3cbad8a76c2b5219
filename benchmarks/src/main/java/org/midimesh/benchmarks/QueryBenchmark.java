package org.midimesh.benchmarks;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionState;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Uncontended queries of a CONNECTED connection: one thread, nobody else touching the connection. These are the
 * numbers the targets apply to (getState &lt;= 5 ns, getRemoteDevices &lt;= 50 ns; workplan: &lt; 20 ns, &lt; 1 ms).
 * Each result is returned to JMH, which consumes it, so the call cannot be optimised away.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Threads(1)
public class QueryBenchmark extends ConnectedRigState {

    @Benchmark
    public ConnectionState getState() {
        return connection.getState();
    }

    @Benchmark
    public List<DeviceInfo> getRemoteDevices() {
        return connection.getRemoteDevices();
    }

    @Benchmark
    public Optional<NodeInfo> getRemoteNode() {
        return connection.getRemoteNode();
    }

    @Benchmark
    public long getTimeSinceLastHeartbeat() {
        return connection.getTimeSinceLastHeartbeat();
    }
}
