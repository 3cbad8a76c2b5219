package org.midimesh.load.driver.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(10)
class RunFilesTest {

    @TempDir
    Path tmp;

    @Test
    void sentFileHasTheHeaderThenDueAndSentPerSequence() throws IOException {
        Path dir = tmp.resolve("loadtest"); // created on the first write
        Path file = RunFiles.writeSent(dir, "run-1", new long[] {10, 20, 30}, new long[] {11, 25, 30});

        assertEquals(dir.resolve("run-1.sent"), file);
        byte[] bytes = Files.readAllBytes(file);
        assertEquals(4 + 4 + 4 + 8 + 3 * 16, bytes.length);
        assertEquals("4c4f4144" + "00000001" + "00000001" + "0000000000000003" + "000000000000000a"
                + "000000000000000b", HexFormat.of().formatHex(bytes, 0, 36));
        RunFiles.Sent back = RunFiles.readSent(file);
        assertArrayEquals(new long[] {10, 20, 30}, back.dueNanos());
        assertArrayEquals(new long[] {11, 25, 30}, back.sentNanos());
        assertFalse(Files.exists(dir.resolve("run-1.sent.tmp")));
    }

    @Test
    void receivedFileHasTheHeaderCountForeignThenSeqAndArrival() throws IOException {
        Recorder.Snapshot s = new Recorder.Snapshot(new int[] {2, 0, 1, 1}, new long[] {5, 6, 7, -8}, 9, 0);
        Path file = RunFiles.writeReceived(tmp, "r", s);

        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)); // big-endian
        assertEquals(4 + 4 + 4 + 8 + 8 + 4 * 12, b.remaining());
        assertEquals(0x4C4F4144, b.getInt());
        assertEquals(1, b.getInt());
        assertEquals(2, b.getInt());
        assertEquals(4, b.getLong());
        assertEquals(9, b.getLong());
        assertEquals(2, b.getInt());
        assertEquals(5, b.getLong());

        RunFiles.Received back = RunFiles.readReceived(file);
        assertArrayEquals(s.seqs(), back.seqs());
        assertArrayEquals(s.arrivalNanos(), back.arrivalNanos());
        assertEquals(9, back.foreign());
    }

    @Test
    void aLaterWriteReplacesTheFile() throws IOException {
        RunFiles.writeReceived(tmp, "r", new Recorder.Snapshot(new int[] {1}, new long[] {1}, 0, 0));
        RunFiles.writeReceived(tmp, "r", new Recorder.Snapshot(new int[] {}, new long[] {}, 3, 0));
        RunFiles.Received back = RunFiles.readReceived(RunFiles.receivedFile(tmp, "r"));
        assertEquals(0, back.seqs().length);
        assertEquals(3, back.foreign());
    }

    @Test
    void aFileOfTheOtherKindIsRefused() throws IOException {
        Path sent = RunFiles.writeSent(tmp, "r", new long[] {}, new long[] {});
        assertThrows(IOException.class, () -> RunFiles.readReceived(sent));
    }
}
