package org.midimesh.itests.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Shared settings and helpers of the end-to-end suite. */
final class E2E {

    static final ObjectMapper MAPPER = new ObjectMapper();

    static final Duration POLL = Duration.ofMillis(100);
    static final Duration FAST_POLL = Duration.ofMillis(50);

    private E2E() {
    }

    /** The jar under test: system property {@code midimesh.jar}. */
    static Path jar() {
        String p = System.getProperty("midimesh.jar");
        if (p == null || p.isBlank()) {
            p = "../distribution/target/midimesh.jar";
        }
        return Path.of(p).toAbsolutePath().normalize();
    }

    /** The root of the suite's work dirs: system property {@code itest.workdir}. */
    static Path workRoot() {
        String p = System.getProperty("itest.workdir");
        if (p == null || p.isBlank()) {
            p = "target/e2e";
        }
        return Path.of(p).toAbsolutePath().normalize();
    }

    /** An Awaitility wait with an explicit bound, polling every 100 ms from the start. */
    static ConditionFactory await(String what, Duration atMost) {
        return await(what, atMost, POLL);
    }

    static ConditionFactory await(String what, Duration atMost, Duration poll) {
        return Awaitility.await(what).atMost(atMost).pollDelay(Duration.ZERO).pollInterval(poll);
    }

    // ---- files ----

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clear " + dir, e);
        }
    }

    /** The last {@code lines} lines of a file, headed by {@code title}. */
    static String tail(String title, Path file, int lines) {
        StringBuilder sb = new StringBuilder("\n----- ").append(title).append(": last ").append(lines)
                .append(" lines of ").append(file).append(" -----\n");
        try {
            if (!Files.exists(file)) {
                return sb.append("(no such file)\n").toString();
            }
            String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
            List<String> all = Arrays.asList(text.split("\\R"));
            for (String l : all.subList(Math.max(0, all.size() - lines), all.size())) {
                sb.append(clip(l, 600)).append('\n');
            }
        } catch (IOException e) {
            sb.append("(cannot read: ").append(e).append(")\n");
        }
        return sb.toString();
    }

    static String read(Path file) {
        try {
            return Files.exists(file) ? new String(Files.readAllBytes(file), StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String clip(String s, int max) {
        if (s == null) {
            return "null";
        }
        return s.length() <= max ? s : s.substring(0, max) + "...(" + s.length() + " chars)";
    }

    // ---- JSON ----

    static String sendBody(List<String> messages) {
        ObjectNode body = MAPPER.createObjectNode();
        ArrayNode arr = body.putArray("messages");
        messages.forEach(arr::add);
        return body.toString();
    }

    static String routeBody(String sourceNode, int sourceDevice, String destNode, int destDevice) {
        ObjectNode body = MAPPER.createObjectNode();
        body.putObject("source").put("node_id", sourceNode).put("device_id", sourceDevice);
        body.putObject("destination").put("node_id", destNode).put("device_id", destDevice);
        return body.toString();
    }

    /** Hex as the API prints it: lower case, no spaces. */
    static String normHex(String hex) {
        return hex == null ? null : hex.replace(" ", "").toLowerCase(Locale.ROOT);
    }

    static String lower(JsonNode n) {
        return n == null || n.isMissingNode() || n.isNull() ? null : n.asText().toLowerCase(Locale.ROOT);
    }

    // ---- mesh ----

    /** The {@code /network/mesh} entries of {@code observer}. */
    static List<JsonNode> meshNodes(MidiMeshProcess observer) {
        MidiMeshProcess.Response r = observer.getJson("/network/mesh");
        assertEquals(200, r.status(), () -> "GET /network/mesh on " + observer + ": " + r);
        JsonNode nodes = r.path("nodes");
        assertTrue(nodes.isArray(), () -> "/network/mesh on " + observer + " has no nodes array: " + r);
        List<JsonNode> out = new ArrayList<>();
        nodes.forEach(out::add);
        return out;
    }

    /** The entries of {@code observer}'s mesh for {@code peerUuid}, normally zero or one. */
    static List<JsonNode> meshEntries(MidiMeshProcess observer, String peerUuid) {
        return meshNodes(observer).stream().filter(n -> peerUuid.equalsIgnoreCase(n.path("uuid").asText()))
                .toList();
    }

    /** The state {@code observer} shows for the peer, or null without an entry. */
    static String meshState(MidiMeshProcess observer, String peerUuid) {
        List<JsonNode> e = meshEntries(observer, peerUuid);
        return e.isEmpty() ? null : e.get(0).path("state").asText(null);
    }

    /** Asserts that {@code observer} shows exactly one entry for {@code peer}, in {@code state}. */
    static void assertMeshState(MidiMeshProcess observer, MidiMeshProcess peer, String state) {
        List<JsonNode> all = meshNodes(observer);
        List<JsonNode> e = all.stream().filter(n -> peer.uuid().equalsIgnoreCase(n.path("uuid").asText())).toList();
        assertEquals(1, e.size(), () -> observer + " should show one entry for " + peer + ": " + all);
        assertEquals(state, e.get(0).path("state").asText(null), () -> observer + " shows " + peer + ": " + e.get(0));
    }

    /** Asserts that {@code observer} lists each of {@code peers} as connected, once, and no other node. */
    static void assertConnectedExactly(MidiMeshProcess observer, MidiMeshProcess... peers) {
        List<JsonNode> all = meshNodes(observer);
        assertEquals(peers.length, all.size(), () -> observer + " should show exactly " + Arrays.toString(peers)
                + ": " + all);
        for (MidiMeshProcess p : peers) {
            assertMeshState(observer, p, "connected");
        }
    }

    /**
     * Asserts that {@code observer}'s {@code /midi/devices} lists its own 2 devices (1 "{@code <name> In}", 2
     * "{@code <name> Out}") and exactly {@code peer}'s 2.
     */
    static void assertListsLocalAndRemote(MidiMeshProcess observer, MidiMeshProcess peer) {
        MidiMeshProcess.Response r = observer.getJson("/midi/devices");
        assertEquals(200, r.status(), r::toString);
        List<JsonNode> local = new ArrayList<>();
        List<JsonNode> remote = new ArrayList<>();
        for (JsonNode d : r.path("devices")) {
            if (d.path("is_local").asBoolean(false)) {
                local.add(d);
            } else {
                remote.add(d);
            }
        }
        assertDevice(local, 1, observer.spec().name() + " In", "input", observer, r);
        assertDevice(local, 2, observer.spec().name() + " Out", "output", observer, r);
        // Exactly the devices the peer lists as its own: its default two, plus whatever its drivers found on this
        // machine (such as the JDK's synthesizer).
        List<String> peersOwn = ownDevices(peer);
        List<String> listed = remote.stream().filter(d -> peer.uuid().equalsIgnoreCase(d.path("owner_node").asText()))
                .map(E2E::deviceKey).toList();
        assertEquals(peersOwn, listed, () -> observer + " should list exactly " + peer + "'s own devices: " + r);
        assertEquals(remote.size(), listed.size(), () -> observer + " lists devices of nobody else: " + r);
        assertDevice(remote, 1, peer.spec().name() + " In", "input", peer, r);
        assertDevice(remote, 2, peer.spec().name() + " Out", "output", peer, r);
    }

    /** {@code "<id> <name> <type>"} of each device {@code node} lists as its own, in its order. */
    static List<String> ownDevices(MidiMeshProcess node) {
        List<String> own = new ArrayList<>();
        for (JsonNode d : node.getJson("/midi/devices").path("devices")) {
            if (d.path("is_local").asBoolean(false)) {
                own.add(deviceKey(d));
            }
        }
        return own;
    }

    private static String deviceKey(JsonNode d) {
        return d.path("id").asInt() + " " + d.path("name").asText() + " " + d.path("type").asText();
    }

    private static void assertDevice(List<JsonNode> devices, int id, String name, String type, MidiMeshProcess owner,
            MidiMeshProcess.Response all) {
        List<JsonNode> match = devices.stream().filter(d -> d.path("id").asInt(-1) == id
                && owner.uuid().equalsIgnoreCase(d.path("owner_node").asText())).toList();
        assertEquals(1, match.size(), () -> "one device " + id + " of " + owner + " expected: " + all);
        JsonNode d = match.get(0);
        assertEquals(name, d.path("name").asText(), () -> "device " + d);
        assertEquals(type, d.path("type").asText(), () -> "device " + d);
        assertEquals(owner.spec().name(), d.path("owner_name").asText(), () -> "device " + d);
    }

    // ---- received messages ----

    /** One message an output played. */
    record Received(long seq, String data, long receivedAtUs, String sourceNode) {
    }

    /** {@code total} of {@code GET /midi/devices/{id}/received}. */
    static long receivedTotal(MidiMeshProcess node, int deviceId) {
        MidiMeshProcess.Response r = node.getJson("/midi/devices/" + deviceId + "/received?after=0&limit=1");
        assertEquals(200, r.status(), () -> "received of " + node + " device " + deviceId + ": " + r);
        assertTrue(r.path("total").isIntegralNumber(), () -> "received has no total: " + r);
        return r.path("total").asLong();
    }

    /**
     * Every message with a seq above {@code after}, paging with {@code after}/{@code next} and {@code limit}; stops
     * at an empty page.
     */
    static List<Received> receivedAfter(MidiMeshProcess node, int deviceId, long after, int limit) {
        List<Received> out = new ArrayList<>();
        long cursor = after;
        for (int pages = 0; pages < 10_000; pages++) {
            String path = "/midi/devices/" + deviceId + "/received?after=" + cursor + "&limit=" + limit;
            MidiMeshProcess.Response r = node.getJson(path);
            assertEquals(200, r.status(), () -> "GET " + path + " on " + node + ": " + r);
            assertEquals(deviceId, r.path("device_id").asInt(-1), () -> "device_id of " + path + ": " + r);
            JsonNode messages = r.path("messages");
            assertTrue(messages.isArray(), () -> path + " has no messages array: " + r);
            assertTrue(messages.size() <= limit, () -> path + " returned more than limit=" + limit);
            if (messages.isEmpty()) {
                assertEquals(cursor, r.path("next").asLong(-1), () -> "next of an empty page " + path + ": " + r);
                return out;
            }
            for (JsonNode m : messages) {
                out.add(new Received(m.path("seq").asLong(-1), m.path("data").asText(null),
                        m.path("received_at_us").asLong(-1), lower(m.path("source_node"))));
            }
            long next = r.path("next").asLong(-1);
            long from = cursor;
            assertTrue(next > from, () -> "next of a non-empty page " + path + " must move past " + from + ": " + r);
            cursor = next;
        }
        throw new AssertionError("received of " + node + " never ended");
    }
}
