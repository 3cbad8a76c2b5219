package org.midimesh.routing.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.midimesh.common.AtomicFiles;
import org.midimesh.api.NodeId;
import org.midimesh.api.midi.MessageType;
import org.midimesh.api.routing.RouteEndpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code routes.json} in the data dir: a snake_case JSON object {@code {"version": 1, "routes": [...]}} holding the
 * route settings (statistics are not kept). Written atomically: a temp file in the same dir, fsync, then an atomic
 * rename over the old file, so a kill at any moment leaves either the old or the new file.
 * <p>Not thread-safe: the router calls {@link #save} under its writer lock and {@link #load} once at activation.
 */
final class RoutesFile {

    static final String FILE_NAME = "routes.json";
    static final String TEMP_PREFIX = FILE_NAME + ".";
    static final String TEMP_SUFFIX = ".tmp";
    static final String CORRUPT_PREFIX = FILE_NAME + ".corrupt-";
    static final int FORMAT_VERSION = 1;

    private static final Logger LOG = LoggerFactory.getLogger(RoutesFile.class);
    private static final DateTimeFormatter STAMP =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);

    private final Path dir;
    private final Path file;
    private final ObjectMapper mapper = new ObjectMapper()
            // a file with a complete value followed by junk is corrupt, not silently truncated
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    RoutesFile(Path dataDir) {
        this.dir = dataDir;
        this.file = dataDir.resolve(FILE_NAME);
    }

    Path path() {
        return file;
    }

    /**
     * Reads the routes. Never throws: a missing file gives no routes; a corrupt file is renamed aside
     * ({@code routes.json.corrupt-<timestamp>}), logged at ERROR, and gives no routes; an invalid entry is skipped
     * with a WARN. Temp files left by a write that was killed are deleted first.
     */
    List<RouteState> load() {
        deleteStaleTempFiles();
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            LOG.error("cannot read {}; starting with no routes, and the next route change will replace it", file, e);
            return List.of();
        }
        JsonNode root;
        try {
            root = mapper.readTree(bytes);
        } catch (JacksonException e) {
            moveAside("not JSON: " + e.getOriginalMessage());
            return List.of();
        } catch (IOException e) {
            moveAside("not JSON: " + e);
            return List.of();
        }
        if (root == null || !root.isObject()) {
            moveAside("not a JSON object");
            return List.of();
        }
        JsonNode version = root.get("version");
        if (version == null || !version.isInt() || version.intValue() != FORMAT_VERSION) {
            moveAside("version must be " + FORMAT_VERSION + ", not " + version);
            return List.of();
        }
        JsonNode entries = root.get("routes");
        if (entries == null || !entries.isArray()) {
            moveAside("\"routes\" is not an array");
            return List.of();
        }
        List<RouteState> routes = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        int index = 0;
        for (JsonNode entry : entries) {
            try {
                RouteState r = parseRoute(entry);
                if (!ids.add(r.id)) {
                    throw new IllegalArgumentException("route_id " + r.id + " appears twice");
                }
                routes.add(r);
            } catch (IllegalArgumentException e) {
                LOG.warn("{}: skipping route entry {}: {}", file, index, e.getMessage());
            }
            index++;
        }
        return routes;
    }

    /**
     * Replaces the file with these routes, atomically and durably.
     *
     * @throws IOException when it could not be written; the old file is then unchanged and no temp file is left
     */
    void save(List<RouteState> routes) throws IOException {
        ObjectNode root = mapper.createObjectNode();
        root.put("version", FORMAT_VERSION);
        ArrayNode array = root.putArray("routes");
        for (RouteState r : routes) {
            array.add(toJson(r));
        }
        byte[] bytes = mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
        AtomicFiles.write(file, bytes);
    }

    private void deleteStaleTempFiles() {
        try {
            int n = AtomicFiles.deleteStaleTemps(file);
            if (n > 0) {
                LOG.info("deleted {} temp file(s) in {} left by an interrupted write", n, dir);
            }
        } catch (IOException e) {
            LOG.warn("cannot clean temp files in {}: {}", dir, e.toString());
        }
    }

    private void moveAside(String why) {
        Path aside = dir.resolve(CORRUPT_PREFIX + STAMP.format(Instant.now()));
        for (int i = 1; Files.exists(aside); i++) {
            aside = dir.resolve(CORRUPT_PREFIX + STAMP.format(Instant.now()) + "-" + i);
        }
        try {
            Files.move(file, aside, StandardCopyOption.ATOMIC_MOVE);
            LOG.error("{} is corrupt ({}); moved it to {} and starting with no routes", file, why, aside);
        } catch (IOException e) {
            LOG.error("{} is corrupt ({}) and could not be moved aside; starting with no routes, and the next route "
                    + "change will replace it", file, why, e);
        }
    }

    private ObjectNode toJson(RouteState r) {
        ObjectNode o = mapper.createObjectNode();
        o.put("route_id", r.id);
        o.put("enabled", r.enabled);
        o.put("priority", r.priority);
        o.set("source", endpointJson(r.source));
        o.set("destination", endpointJson(r.destination));
        o.put("channel_filter", r.channelFilter);
        ArrayNode types = o.putArray("message_types");
        // in enum order, so the file does not change with set iteration order
        for (MessageType t : MessageType.values()) {
            if (r.messageTypes.contains(t)) {
                types.add(t.wireName());
            }
        }
        return o;
    }

    private ObjectNode endpointJson(RouteEndpoint e) {
        ObjectNode o = mapper.createObjectNode();
        o.put("node_id", e.node().toString());
        o.put("device_id", e.deviceId());
        return o;
    }

    /** @throws IllegalArgumentException naming the field that is wrong */
    static RouteState parseRoute(JsonNode o) {
        if (o == null || !o.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        JsonNode idNode = o.get("route_id");
        if (idNode == null || !idNode.isTextual() || idNode.textValue().isBlank()) {
            throw new IllegalArgumentException("route_id is missing or not a string");
        }
        String id = idNode.textValue();
        boolean enabled = true;
        JsonNode en = o.get("enabled");
        if (en != null && !en.isNull()) {
            if (!en.isBoolean()) {
                throw new IllegalArgumentException("enabled is not true or false");
            }
            enabled = en.booleanValue();
        }
        int priority = optionalInt(o, "priority", RouteState.DEFAULT_PRIORITY);
        RouteState.checkPriority(priority);
        int channel = optionalInt(o, "channel_filter", 0);
        RouteState.checkChannelFilter(channel);
        Set<MessageType> types = EnumSet.noneOf(MessageType.class);
        JsonNode tn = o.get("message_types");
        if (tn != null && !tn.isNull()) {
            if (!tn.isArray()) {
                throw new IllegalArgumentException("message_types is not an array");
            }
            for (JsonNode t : tn) {
                if (!t.isTextual()) {
                    throw new IllegalArgumentException("message_types holds a non-string: " + t);
                }
                types.add(MessageType.fromWireName(t.textValue()));
            }
        }
        RouteEndpoint source = endpoint(o, "source");
        RouteEndpoint destination = endpoint(o, "destination");
        return new RouteState(id, enabled, priority, source, destination, channel, types, new RouteCounters());
    }

    private static int optionalInt(JsonNode o, String field, int dflt) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isInt()) {
            throw new IllegalArgumentException(field + " is not an integer: " + n);
        }
        return n.intValue();
    }

    private static RouteEndpoint endpoint(JsonNode o, String field) {
        JsonNode e = o.get(field);
        if (e == null || !e.isObject()) {
            throw new IllegalArgumentException(field + " is missing or not an object");
        }
        JsonNode node = e.get("node_id");
        if (node == null || !node.isTextual()) {
            throw new IllegalArgumentException(field + ".node_id is missing or not a string");
        }
        JsonNode dev = e.get("device_id");
        if (dev == null || !dev.isInt()) {
            throw new IllegalArgumentException(field + ".device_id is missing or not an integer");
        }
        NodeId nodeId;
        try {
            nodeId = NodeId.parse(node.textValue());
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException(field + ".node_id: " + ex.getMessage(), ex);
        }
        try {
            return new RouteEndpoint(nodeId, dev.intValue());
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException(field + "." + ex.getMessage(), ex);
        }
    }
}
