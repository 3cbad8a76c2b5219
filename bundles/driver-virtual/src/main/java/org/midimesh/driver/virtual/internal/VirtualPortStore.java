package org.midimesh.driver.virtual.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.midimesh.common.AtomicFiles;
import org.midimesh.api.DeviceType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The created virtual ports, in {@code virtual-ports.json}:
 * {@code {"version":1,"ports":[{"name":"Synth","type":"output"}, ...]}} in creation order.
 * Not thread-safe: the driver calls it under its admin lock.
 */
final class VirtualPortStore {

    static final String FILE_NAME = "virtual-ports.json";
    private static final int VERSION = 1;
    private static final Logger LOG = LoggerFactory.getLogger(VirtualPortStore.class);

    /** One stored port. */
    record Entry(String name, DeviceType type) {
    }

    private final Path file;
    private final ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    VirtualPortStore(Path dataDir) {
        this.file = dataDir.resolve(FILE_NAME);
    }

    Path file() {
        return file;
    }

    /**
     * The stored ports; none when the file does not exist. An unreadable file is logged, moved aside and read as
     * empty; a bad entry is logged and skipped (the caller still validates names).
     */
    List<Entry> load() {
        JsonNode root;
        try {
            root = mapper.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            LOG.error("cannot read {}, starting without the created virtual ports: {}", file, e.toString());
            moveAside();
            return List.of();
        }
        JsonNode ports = root == null ? null : root.get("ports");
        if (ports == null || !ports.isArray()) {
            LOG.error("{} has no \"ports\" array, starting without the created virtual ports", file);
            moveAside();
            return List.of();
        }
        List<Entry> out = new ArrayList<>();
        for (JsonNode p : ports) {
            JsonNode name = p.get("name");
            JsonNode type = p.get("type");
            try {
                if (name == null || !name.isTextual() || type == null || !type.isTextual()) {
                    throw new IllegalArgumentException("name and type must be text");
                }
                out.add(new Entry(name.asText(), DeviceType.fromWireName(type.asText())));
            } catch (IllegalArgumentException e) {
                LOG.warn("{}: skipping bad entry {}: {}", file, p, e.getMessage());
            }
        }
        return out;
    }

    /**
     * Replaces the file atomically.
     *
     * @throws UncheckedIOException when it cannot be written; the old file is then unchanged
     */
    void save(List<Entry> entries) {
        ObjectNode root = mapper.createObjectNode();
        root.put("version", VERSION);
        ArrayNode ports = root.putArray("ports");
        for (Entry e : entries) {
            ports.addObject().put("name", e.name()).put("type", e.type().wireName());
        }
        try {
            AtomicFiles.write(file, mapper.writeValueAsBytes(root));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private void moveAside() {
        try {
            Path aside = AtomicFiles.moveAside(file);
            LOG.error("moved the unreadable {} to {}", file, aside);
        } catch (IOException e) {
            LOG.error("cannot move the unreadable {} aside: {}", file, e.toString());
        }
    }
}
