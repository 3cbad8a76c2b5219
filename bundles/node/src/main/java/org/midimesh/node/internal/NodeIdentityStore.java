package org.midimesh.node.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.midimesh.common.AtomicFiles;
import org.midimesh.api.NodeId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the node id in {@code <data-dir>/node-id}: read it if it is there, else make one and write it atomically.
 * Used once, on the activating thread.
 */
final class NodeIdentityStore {

    static final String FILE = "node-id";
    private static final Logger LOG = LoggerFactory.getLogger(NodeIdentityStore.class);

    private NodeIdentityStore() {
    }

    /**
     * The node id: {@code fixed} when given (and then also written when the data dir has none), else the stored one,
     * else a new random id that is stored. A file that does not hold a node id is moved aside, never overwritten.
     */
    static NodeId loadOrCreate(Path dataDir, NodeId fixed) throws IOException {
        Files.createDirectories(dataDir);
        Path file = dataDir.resolve(FILE);
        NodeId stored = null;
        if (Files.exists(file)) {
            String text = Files.readString(file, StandardCharsets.UTF_8).trim();
            try {
                stored = NodeId.parse(text);
            } catch (IllegalArgumentException e) {
                Path aside = dataDir.resolve(FILE + ".invalid-" + System.currentTimeMillis());
                Files.move(file, aside);
                LOG.error("{} does not hold a node id; moved it to {} and made a new identity", file, aside);
            }
        }
        if (fixed != null) {
            if (stored == null) {
                writeAtomically(file, fixed.toString());
            }
            return fixed;
        }
        if (stored != null) {
            return stored;
        }
        NodeId fresh = NodeId.random();
        writeAtomically(file, fresh.toString());
        LOG.info("new node id {} stored in {}", fresh, file);
        return fresh;
    }

    static void writeAtomically(Path file, String content) throws IOException {
        AtomicFiles.write(file, (content + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
