package org.midimesh.devices.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.midimesh.common.AtomicFiles;
import org.midimesh.api.DeviceInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The device ids ever given, in {@code devices.json}: one JSON object from {@code "driver/type/port name"} to id,
 * written in id order. Not thread-safe: the registry calls it under its lock.
 */
final class DeviceIdStore {

    static final String FILE_NAME = "devices.json";
    private static final Logger LOG = LoggerFactory.getLogger(DeviceIdStore.class);

    private final Path file;
    private final ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    DeviceIdStore(Path dataDir) {
        this.file = dataDir.resolve(FILE_NAME);
    }

    Path file() {
        return file;
    }

    /**
     * The stored ids; none when the file does not exist. An unreadable file is logged at ERROR, moved aside and read
     * as empty; an entry with a bad or repeated id is logged and skipped.
     */
    Map<String, Integer> load() {
        JsonNode root;
        try {
            root = mapper.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            return new LinkedHashMap<>();
        } catch (IOException e) {
            LOG.error("cannot read {}, device ids start afresh: {}", file, e.toString());
            moveAside();
            return new LinkedHashMap<>();
        }
        if (root == null || !root.isObject()) {
            LOG.error("{} is not a JSON object, device ids start afresh", file);
            moveAside();
            return new LinkedHashMap<>();
        }
        Map<String, Integer> ids = new LinkedHashMap<>();
        Set<Integer> seen = new HashSet<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            JsonNode v = e.getValue();
            if (!v.isIntegralNumber() || v.asLong() < 1 || v.asLong() > DeviceInfo.MAX_ID) {
                LOG.warn("{}: skipping \"{}\": id must be 1..{}, not {}", file, e.getKey(), DeviceInfo.MAX_ID, v);
            } else if (!seen.add(v.intValue())) {
                LOG.warn("{}: skipping \"{}\": id {} is given twice", file, e.getKey(), v.intValue());
            } else {
                ids.put(e.getKey(), v.intValue());
            }
        }
        return ids;
    }

    /**
     * Replaces the file atomically.
     *
     * @throws UncheckedIOException when it cannot be written; the old file is then unchanged
     */
    void save(Map<String, Integer> ids) {
        List<Map.Entry<String, Integer>> sorted = new ArrayList<>(ids.entrySet());
        sorted.sort(Map.Entry.comparingByValue());
        ObjectNode root = mapper.createObjectNode();
        for (Map.Entry<String, Integer> e : sorted) {
            root.put(e.getKey(), e.getValue());
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
