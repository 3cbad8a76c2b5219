package org.midimesh.benchmarks;

import org.midimesh.api.connection.NetworkConnection;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;

/**
 * The lifecycle every benchmark of one connection shares, as the superclass of its {@code @State} class (JMH runs the
 * {@code @Setup}/{@code @TearDown} methods a state class inherits): per trial, a {@link ConnectedRig} (the strategy
 * manager with the {@link #strategy} parameter's strategy, and one connection it opened), connected before the first
 * iteration and closed, after printing its summary, after the last; per iteration, the {@link HangGuard} armed and
 * disarmed. Each subclass keeps its own JMH settings (mode,
 * forks, warmup, threads) and its {@code @State(Scope.Benchmark)}.
 * <p>Threads: JMH's setup and teardown run on one benchmark thread while no benchmark method runs, and JMH orders
 * them with the benchmark threads; {@link #rig} and {@link #connection} are written only there, then only read.
 */
@State(Scope.Benchmark)
public abstract class ConnectedRigState {

    @Param({"mutex", "seda"})
    public String strategy;

    ConnectedRig rig;
    /**
     * {@code rig.connection} (the manager's stable connection, as consumers hold it), kept in a field of its own so
     * that a benchmark method reads one field, not two.
     */
    NetworkConnection connection;

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) {
        rig = ConnectedRig.connect(params, strategy);
        connection = rig.connection;
        connected();
    }

    /**
     * Called at the end of the trial setup, with {@link #rig} connected: where a subclass copies more of the rig into
     * fields of its own. JMH does not promise an order between two {@code @Setup} methods of one level, hence a hook
     * rather than a second {@code @Setup}.
     */
    protected void connected() {
    }

    @Setup(Level.Iteration)
    public void armHangGuard(BenchmarkParams params, IterationParams iteration) {
        HangGuard.arm(params.getBenchmark(), iteration);
    }

    @TearDown(Level.Iteration)
    public void disarmHangGuard() {
        HangGuard.disarm();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        System.out.println(rig.summary());
        rig.close();
    }
}
