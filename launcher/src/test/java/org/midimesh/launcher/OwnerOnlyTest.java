package org.midimesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code <data-dir>/cache}, where ConfigAdmin keeps the node's configuration and its admin token, is its owner's only.
 */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class OwnerOnlyTest {

    @TempDir
    Path tmp;

    @Test
    void shouldCreateTheDirectoryForItsOwnerOnly() throws IOException {
        assumeTrue(Files.getFileAttributeView(tmp, PosixFileAttributeView.class) != null, "POSIX permissions");
        Path cache = tmp.resolve("data").resolve("cache");

        Main.ownerOnly(cache);

        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(cache)));
    }

    @Test
    void shouldCloseADirectoryThatAnEarlierVersionLeftOpen() throws IOException {
        assumeTrue(Files.getFileAttributeView(tmp, PosixFileAttributeView.class) != null, "POSIX permissions");
        Path cache = Files.createDirectories(tmp.resolve("cache"));
        Files.setPosixFilePermissions(cache, PosixFilePermissions.fromString("rwxr-xr-x"));

        Main.ownerOnly(cache);

        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(cache)));
    }
}
