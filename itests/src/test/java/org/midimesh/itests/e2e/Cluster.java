package org.midimesh.itests.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The nodes of one test (or one test class): each gets {@code <dir>/<name>-data} as data dir and
 * {@code <dir>/<name>.log} for its stderr. The dir is cleared when the cluster is made, so a rerun never sees old node
 * ids or routes. {@link #close()} kills whatever still runs. {@link NodeLogsOnFailure} finds a cluster in a field of
 * the test instance and adds the log tails of its nodes to a failure.
 */
final class Cluster implements AutoCloseable {

    private final Path dir;
    private final List<MidiMeshProcess> nodes = new ArrayList<>();

    Cluster(Class<?> testClass, String... sub) {
        Path d = E2E.workRoot().resolve(testClass.getSimpleName());
        for (String s : sub) {
            d = d.resolve(s);
        }
        this.dir = d;
        E2E.deleteRecursively(dir);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Path dir() {
        return dir;
    }

    /** Starts {@code name} on free ports with the suite's fixed options plus {@code extraArgs}. */
    MidiMeshProcess start(String name, String... extraArgs) {
        return track(MidiMeshProcess.start(new MidiMeshProcess.Spec(name, dir.resolve(name + "-data"),
                dir.resolve(name + ".log"), 0, 0, 0, Arrays.asList(extraArgs))));
    }

    /**
     * Starts {@code name} with the given HTTP port (the node picks its UDP and TCP ports) and returns at once, before
     * it is ready ({@link MidiMeshProcess#awaitReady}); the data dir is {@code <dir>/<name>-data} as with
     * {@link #start}, so starting a name again reuses its node id.
     */
    MidiMeshProcess launch(String name, int httpPort, String... extraArgs) {
        return track(MidiMeshProcess.launch(new MidiMeshProcess.Spec(name, dir.resolve(name + "-data"),
                dir.resolve(name + ".log"), httpPort, 0, 0, Arrays.asList(extraArgs))));
    }

    /**
     * Starts the node again after it ended (waits up to 10 s for that): same data dir, log (appended), ports and
     * arguments.
     */
    MidiMeshProcess restart(MidiMeshProcess old) {
        MidiMeshProcess.Exit exit = old.awaitExit(Duration.ofSeconds(10), System.nanoTime());
        if (!exit.exited()) {
            throw new AssertionError(old + " is still running; cannot restart it");
        }
        return track(MidiMeshProcess.start(old.spec().samePorts(old)));
    }

    private synchronized MidiMeshProcess track(MidiMeshProcess p) {
        nodes.add(p);
        return p;
    }

    /**
     * What the live nodes say about themselves ({@code /network/mesh}, {@code /network/stats},
     * {@code /routing/routes}), then the log tails of every node started here, newest process last.
     */
    synchronized String report(int lines) {
        StringBuilder sb = new StringBuilder();
        for (MidiMeshProcess p : nodes) {
            if (!p.isAlive()) {
                continue;
            }
            sb.append("\n----- ").append(p).append(" now -----\n");
            for (String path : List.of("/network/mesh", "/network/stats", "/routing/routes")) {
                String answer;
                try {
                    answer = p.getJson(path).toString();
                } catch (RuntimeException e) {
                    answer = e.toString();
                }
                sb.append("GET ").append(path).append(": ").append(answer).append('\n');
            }
        }
        List<Path> seen = new ArrayList<>();
        for (MidiMeshProcess p : nodes) {
            if (!seen.contains(p.spec().logFile())) {
                seen.add(p.spec().logFile());
                sb.append(p.logTail(lines));
            }
        }
        return sb.toString();
    }

    @Override
    public synchronized void close() {
        for (int i = nodes.size() - 1; i >= 0; i--) {
            nodes.get(i).close();
        }
    }
}
