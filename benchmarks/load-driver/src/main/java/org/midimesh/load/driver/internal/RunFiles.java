package org.midimesh.load.driver.internal;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The files of a run, in {@code <data-dir>/loadtest/}: binary, big-endian ({@link DataOutputStream}), each written to
 * {@code <file>.tmp} first and then moved over the file atomically, so a reader sees the whole file or none (a failed
 * write leaves no {@code .tmp} behind).
 * <pre>
 * &lt;run&gt;.sent:     int magic 0x4C4F4144 ('LOAD'), int version 1, int kind 1, long count,
 *                 then per sequence 0..count-1: long dueNanos, long sentNanos
 * &lt;run&gt;.received: int magic, int version 1, int kind 2, long count, long foreign,
 *                 then per arrival, in arrival order: int seq, long arrivalNanos
 * </pre>
 * Stateless; the readers are for tests and checks.
 */
final class RunFiles {

    static final int MAGIC = 0x4C4F4144;
    static final int VERSION = 1;
    static final int KIND_SENT = 1;
    static final int KIND_RECEIVED = 2;

    /** A {@code .sent} file read back. */
    record Sent(long[] dueNanos, long[] sentNanos) {
    }

    /** A {@code .received} file read back. */
    record Received(int[] seqs, long[] arrivalNanos, long foreign) {
    }

    private interface Body {
        void write(DataOutputStream out) throws IOException;
    }

    private RunFiles() {
    }

    static Path sentFile(Path dir, String run) {
        return dir.resolve(run + ".sent");
    }

    static Path receivedFile(Path dir, String run) {
        return dir.resolve(run + ".received");
    }

    /** An empty {@code <run>.started}, written once the recorder was reset for the run (and before it generates). */
    static Path writeStarted(Path dir, String run) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(run + ".started");
        Path tmp = dir.resolve(run + ".started.tmp");
        Files.write(tmp, new byte[0]);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        return file;
    }

    static Path writeSent(Path dir, String run, long[] dueNanos, long[] sentNanos) throws IOException {
        if (dueNanos.length != sentNanos.length) {
            throw new IllegalArgumentException(dueNanos.length + " due times, " + sentNanos.length + " sent times");
        }
        return write(sentFile(dir, run), KIND_SENT, out -> {
            out.writeLong(dueNanos.length);
            for (int i = 0; i < dueNanos.length; i++) {
                out.writeLong(dueNanos[i]);
                out.writeLong(sentNanos[i]);
            }
        });
    }

    static Path writeReceived(Path dir, String run, Recorder.Snapshot s) throws IOException {
        return write(receivedFile(dir, run), KIND_RECEIVED, out -> {
            out.writeLong(s.count());
            out.writeLong(s.foreign());
            for (int i = 0; i < s.count(); i++) {
                out.writeInt(s.seqs()[i]);
                out.writeLong(s.arrivalNanos()[i]);
            }
        });
    }

    private static Path write(Path file, int kind, Body body) throws IOException {
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        boolean moved = false;
        try {
            try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp),
                    1 << 16))) {
                out.writeInt(MAGIC);
                out.writeInt(VERSION);
                out.writeInt(kind);
                body.write(out);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE); // rename(2): replaces an older file of the run
            moved = true;
            return file;
        } finally {
            if (!moved) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    static Sent readSent(Path file) throws IOException {
        try (DataInputStream in = open(file, KIND_SENT)) {
            int n = count(in, file);
            long[] due = new long[n];
            long[] sent = new long[n];
            for (int i = 0; i < n; i++) {
                due[i] = in.readLong();
                sent[i] = in.readLong();
            }
            return new Sent(due, sent);
        }
    }

    static Received readReceived(Path file) throws IOException {
        try (DataInputStream in = open(file, KIND_RECEIVED)) {
            int n = count(in, file);
            long foreign = in.readLong();
            int[] seqs = new int[n];
            long[] arrivals = new long[n];
            for (int i = 0; i < n; i++) {
                seqs[i] = in.readInt();
                arrivals[i] = in.readLong();
            }
            return new Received(seqs, arrivals, foreign);
        }
    }

    private static DataInputStream open(Path file, int kind) throws IOException {
        DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16));
        int magic = in.readInt();
        int version = in.readInt();
        int k = in.readInt();
        if (magic != MAGIC || version != VERSION || k != kind) {
            in.close();
            throw new IOException(String.format("%s: magic %08x version %d kind %d, expected %08x %d %d", file, magic,
                    version, k, MAGIC, VERSION, kind));
        }
        return in;
    }

    private static int count(DataInputStream in, Path file) throws IOException {
        long n = in.readLong();
        if (n < 0 || n > Integer.MAX_VALUE - 8) {
            throw new IOException(file + ": count " + n);
        }
        return (int) n;
    }
}
