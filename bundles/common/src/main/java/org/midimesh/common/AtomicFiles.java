package org.midimesh.common;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/** Whole-file replacement that a crash cannot leave half written. Stateless; called by any thread. */
public final class AtomicFiles {

    /** Temp files are named {@code <target name>.<random>.tmp} beside the target. */
    public static final String TEMP_SUFFIX = ".tmp";

    private AtomicFiles() {
    }

    /**
     * Writes {@code content} to a temp file beside {@code target}, forces it to disk, then renames it over the target
     * with {@link StandardCopyOption#ATOMIC_MOVE}: a reader sees the old file or the new one, never a mix. On failure
     * the target is unchanged and no temp file is left.
     */
    public static void write(Path target, byte[] content) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, target.getFileName().toString() + ".", TEMP_SUFFIX);
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(content);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
            syncDirectory(dir);
        } finally {
            if (!moved) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** Makes the rename itself durable where the platform allows it (Linux does; Windows cannot open a directory). */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // best effort: the content is already forced; only the rename's durability is at stake
        }
    }

    /** Moves an unreadable file aside ({@code <name>.corrupt-<millis>}) so a person can look at it. */
    public static Path moveAside(Path file) throws IOException {
        Path aside = file.resolveSibling(file.getFileName() + ".corrupt-" + System.currentTimeMillis());
        return Files.move(file, aside, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Deletes temp files that an interrupted {@link #write} of {@code target} left behind; returns how many. */
    public static int deleteStaleTemps(Path target) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        int n = 0;
        try (DirectoryStream<Path> stale = Files.newDirectoryStream(dir,
                target.getFileName() + ".*" + TEMP_SUFFIX)) {
            for (Path p : stale) {
                Files.deleteIfExists(p);
                n++;
            }
        }
        return n;
    }
}
