package org.midimesh.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(10)
class AtomicFilesTest {

    @TempDir
    Path dir;

    private List<String> names() throws IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void shouldReplaceTheFileAndLeaveNoTempFile() throws Exception {
        Path f = dir.resolve("routes.json");
        AtomicFiles.write(f, "one".getBytes(StandardCharsets.UTF_8));
        AtomicFiles.write(f, "two".getBytes(StandardCharsets.UTF_8));
        assertEquals("two", Files.readString(f));
        assertEquals(List.of("routes.json"), names());
    }

    @Test
    void shouldLeaveTheOldFileWhenTheWriteFails() throws Exception {
        Path target = dir.resolve("x.json");
        Files.createDirectory(target); // a directory cannot be replaced by a file: the move fails
        Files.writeString(target.resolve("inside"), "keep");
        assertThrows(IOException.class, () -> AtomicFiles.write(target, new byte[] {1}));
        assertEquals(List.of("x.json"), names());
        assertEquals("keep", Files.readString(target.resolve("inside")));
    }

    @Test
    void shouldMoveACorruptFileAsideAndDeleteStaleTemps() throws Exception {
        Path f = dir.resolve("devices.json");
        Files.writeString(f, "{");
        Files.writeString(dir.resolve("devices.json.123.tmp"), "half");
        Files.writeString(dir.resolve("other.json.123.tmp"), "not ours");
        Path aside = AtomicFiles.moveAside(f);
        assertTrue(aside.getFileName().toString().startsWith("devices.json.corrupt-"));
        assertEquals(1, AtomicFiles.deleteStaleTemps(f));
        assertEquals(List.of(aside.getFileName().toString(), "other.json.123.tmp"), names());
    }

    @Test
    void shouldNameThreadsAndReportUncaughtExceptions() throws Exception {
        java.util.concurrent.atomic.AtomicReference<Throwable> seen = new java.util.concurrent.atomic.AtomicReference<>();
        NamedThreadFactory f = new NamedThreadFactory("midimesh-test", true, seen::set);
        Thread t1 = f.newThread(() -> {
            throw new IllegalStateException("boom");
        });
        Thread t2 = f.newThread(() -> { });
        assertEquals("midimesh-test-1", t1.getName());
        assertEquals("midimesh-test-2", t2.getName());
        assertTrue(t1.isDaemon());
        t1.start();
        t1.join(5000);
        assertEquals("boom", seen.get().getMessage());
        assertEquals("midimesh-solo", new NamedThreadFactory("midimesh-solo", false).newThread(() -> { }).getName());
    }
}
