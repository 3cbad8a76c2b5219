package org.midimesh.benchmarks;

import java.util.concurrent.TimeUnit;

import org.midimesh.api.strategy.StrategyChange;
import org.midimesh.api.strategy.StrategyControl;
import org.midimesh.api.strategy.SwapResult;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Timeout;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;

/**
 * Hot swap (issue 6): the time to move N live CONNECTED connections ({@link #connections}: 1, 100, 1000) from one
 * strategy to the other ({@link #direction}: {@code mutex-to-seda}, {@code seda-to-mutex}), measured as one call of
 * {@code StrategyControl.change(StrategyChange.toDefault(to))}, which returns once every connection has moved.
 *
 * <h2>Settings</h2>
 * AverageTime in ms/op, one thread, 2 forks ({@code -Xms1g -Xmx1g}), warmup 5 x 1 s, measurement 5 x 1 s. The trial
 * setup ({@link SwapRig}) starts the manager with both strategies, {@code from} as the default, and connects the N
 * connections (each to its own fake peer with 16 devices). Every invocation is one measured swap to {@code to}; the
 * invocation teardown, outside the timer, checks it and swaps back.
 *
 * <h2>Why this mode</h2>
 * A swap changes what the next one starts from, so each measured call needs the connections back on {@code from}.
 * {@code @TearDown(Level.Invocation)} does that, and JMH then times each call on its own (two timestamps around the
 * call; the fixture is outside them), so the score is the mean of every swap in the iteration: hundreds per second for
 * N = 1, a few to tens for N = 1000. JMH warns against invocation-level fixtures for calls shorter than about a
 * millisecond because of those timestamps (some 25 ns); a swap, which writes the settings file durably, takes far
 * longer, so their share is negligible. SingleShotTime with a swap back per iteration was the alternative: one call per
 * iteration gives few samples, and with the usual iteration counts the move path of N = 1 would still run
 * interpreted, so its number would mostly measure the JIT. The warmup here makes the path compiled: the numbers are
 * those of a node that has swapped before; a node's very first swap is slower, as the first warmup iteration shows.
 *
 * <h2>What the time includes</h2>
 * Everything the caller of {@code change} waits for: checking the name under the manager's lock, writing the settings
 * file durably (temp file, fsync, rename, directory fsync; {@code ManagerHost} keeps it under {@code java.io.tmpdir},
 * so that disk is part of the number, as the data dir's disk is in a node), handing the N moves to the manager's swap
 * threads ({@code swap.threads}, default 4) and waiting for the last. Each move holds new commands at the connection's
 * gate, lets the old engine finish and hand over ({@code beginHandover}), has the other strategy adopt it, retires the
 * old engine ({@code completeHandover}) and opens the gate. No traffic flows during the swap: this is the cost of the
 * move itself. Not included: the checks and the swap back. Work the swap back left running in the background (a
 * retired engine's last events, a stage thread going idle) may overlap the next measured call, as it would when a
 * node swaps twice in a row.
 *
 * <h2>Checks</h2>
 * After each measured call, outside the timer: {@code migrated == N}, no failures, and every connection reports
 * {@code to} as its strategy and CONNECTED; the swap back is checked the same way. Anything else throws, which ends
 * the benchmark with a JMH failure naming what went wrong (the other parameter combinations still run).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Threads(1)
// A hang guard: an iteration takes about 1 s; one that has not ended after 60 s is reported as failed.
@Timeout(time = 60, timeUnit = TimeUnit.SECONDS)
public class SwapBenchmark {

    /** {@code <from>-to-<to>}; not {@code ->}, which a shell would take for a redirection in {@code -p direction=}. */
    @Param({"mutex-to-seda", "seda-to-mutex"})
    public String direction;

    /** Live CONNECTED connections moved by each swap. */
    @Param({"1", "100", "1000"})
    public int connections;

    private SwapRig rig;
    // Read by the measured method: the control and the change, in fields of their own (one field read each).
    private StrategyControl control;
    private StrategyChange forward;
    private StrategyChange back;
    // Written by the measured call, read and cleared by the invocation teardown; all on the one benchmark thread.
    private SwapResult last;

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) {
        String[] ends = direction.split("-to-", -1);
        if (ends.length != 2 || ends[0].isEmpty() || ends[1].isEmpty() || ends[0].equals(ends[1])) {
            throw new IllegalArgumentException("direction must be <from>-to-<to> with two strategies, such as "
                    + "mutex-to-seda, not " + direction);
        }
        rig = SwapRig.connect(ConnectedRig.shortName(params), ends[0], ends[1], connections);
        control = rig.control;
        forward = rig.forward();
        back = rig.back();
    }

    @Setup(Level.Iteration)
    public void armHangGuard(BenchmarkParams params, IterationParams iteration) {
        HangGuard.arm(params.getBenchmark(), iteration);
    }

    /** The measured swap: every connection moves from {@code from} to {@code to}. */
    @Benchmark
    public SwapResult change() {
        SwapResult r = control.change(forward);
        last = r;
        return r;
    }

    /** Outside the timer: the measured swap moved all N and nothing failed; then all N go back, checked alike. */
    @TearDown(Level.Invocation)
    public void checkAndSwapBack() {
        SwapResult r = last;
        last = null;
        rig.checkSwap(r, rig.to, "the measured swap");
        rig.checkSwap(control.change(back), rig.from, "the swap back");
    }

    @TearDown(Level.Iteration)
    public void disarmHangGuard() {
        HangGuard.disarm();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (rig != null) {
            System.out.println(rig.summary());
            rig.close();
        }
    }
}
