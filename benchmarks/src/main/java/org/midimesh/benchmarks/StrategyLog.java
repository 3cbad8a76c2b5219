package org.midimesh.benchmarks;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;

import org.slf4j.event.Level;

/**
 * Where the strategies' SLF4J output goes during a benchmark (through {@link StrategyLogProvider}): a file per
 * benchmark and strategy, {@code <midimesh.bench.logDir>/<benchmark>-<strategy>-<pid>.log}, created at the first line
 * and capped at {@code midimesh.bench.logMaxBytes} (default 10 MB). Lines past the cap are counted, not written, so
 * a strategy that logs every dropped command cannot fill the disk in a long run. Thread-safe: any thread logs; the
 * JMH setup thread names the file. Static, because SLF4J binds its provider once per JVM.
 */
final class StrategyLog {

    /** Directory of the log files; default {@code ${java.io.tmpdir}/midimesh-benchmarks}. */
    static final String DIR_PROPERTY = "midimesh.bench.logDir";
    /** Lowest level written: trace, debug, info, warn (default) or error. */
    static final String LEVEL_PROPERTY = "midimesh.bench.logLevel";
    /** Bytes written per file at most. */
    static final String MAX_BYTES_PROPERTY = "midimesh.bench.logMaxBytes";

    private static final Level THRESHOLD = Level.valueOf(
            System.getProperty(LEVEL_PROPERTY, "warn").toUpperCase(Locale.ROOT));
    private static final long MAX_BYTES = Long.getLong(MAX_BYTES_PROPERTY, 10L * 1024 * 1024);

    private static final Object LOCK = new Object();
    // Guarded by LOCK: the file the next line goes to, its stream once opened, and the bytes written to it.
    private static Path file = defaultDir().resolve("benchmarks-" + ProcessHandle.current().pid() + ".log");
    private static PrintStream out;
    private static long written;
    // Counters, each read on its own; reset by name().
    private static final LongAdder WARNINGS = new LongAdder();
    private static final LongAdder ERRORS = new LongAdder();
    private static final LongAdder SUPPRESSED = new LongAdder();

    private StrategyLog() {
    }

    /** Starts a new file for {@code benchmark} and {@code strategy}, and resets the counters. */
    static void name(String benchmark, String strategy) {
        synchronized (LOCK) {
            closeLocked();
            file = defaultDir().resolve(benchmark + "-" + strategy + "-" + ProcessHandle.current().pid() + ".log");
            written = 0;
            WARNINGS.reset();
            ERRORS.reset();
            SUPPRESSED.reset();
        }
    }

    static boolean enabled(Level level) {
        return level.toInt() >= THRESHOLD.toInt();
    }

    static void write(Level level, String logger, String message, Throwable thrown) {
        if (level == Level.WARN) {
            WARNINGS.increment();
        } else if (level == Level.ERROR) {
            ERRORS.increment();
        }
        String line = "[" + Thread.currentThread().getName() + "] " + level + " " + logger + " - " + message;
        synchronized (LOCK) {
            if (written >= MAX_BYTES) {
                SUPPRESSED.increment();
                return;
            }
            PrintStream s = openLocked();
            if (s == null) {
                SUPPRESSED.increment();
                return;
            }
            s.println(line);
            if (thrown != null) {
                thrown.printStackTrace(s);
            }
            s.flush();
        }
    }

    /** For the summary line: counts of WARN and ERROR lines since {@link #name}, and where they are. */
    static String summary() {
        long suppressed = SUPPRESSED.sum();
        synchronized (LOCK) {
            return "log: " + WARNINGS.sum() + " WARN, " + ERRORS.sum() + " ERROR"
                    + (suppressed > 0 ? ", " + suppressed + " lines over the " + MAX_BYTES + "-byte cap not written" : "")
                    + (out != null ? " in " + file : "");
        }
    }

    private static PrintStream openLocked() {
        if (out == null) {
            try {
                Files.createDirectories(file.getParent());
                OutputStream counting = new OutputStream() {
                    private final OutputStream target = Files.newOutputStream(file);

                    @Override
                    public void write(int b) throws IOException {
                        target.write(b);
                        written++;
                    }

                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        target.write(b, off, len);
                        written += len;
                    }

                    @Override
                    public void flush() throws IOException {
                        target.flush();
                    }

                    @Override
                    public void close() throws IOException {
                        target.close();
                    }
                };
                out = new PrintStream(counting, false, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return null;
            }
        }
        return out;
    }

    private static void closeLocked() {
        if (out != null) {
            out.close();
            out = null;
        }
    }

    private static Path defaultDir() {
        return Path.of(System.getProperty(DIR_PROPERTY, System.getProperty("java.io.tmpdir") + "/midimesh-benchmarks"));
    }
}
