package org.midimesh.api.test.contract;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.Handshaker;
import org.midimesh.api.connection.PeerLink;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.transport.DataFrame;

/**
 * Fake peers for the contract suite: nodes, handshakes with recognisable device lists, numbered data frames and
 * connection contexts. Stateless; every method is thread-safe.
 */
public final class FakePeers {

    /** The node every numbered frame claims to come from. */
    public static final NodeId FRAME_SOURCE = NodeId.parse("00000000-0000-0000-0000-00000000f4a3");
    /** Largest number {@link #numberedFrame} can carry (28 bits). */
    public static final int MAX_FRAME_NUMBER = (1 << 28) - 1;

    private FakePeers() {
    }

    public static NodeInfo node(NodeId id) {
        return new NodeInfo(id, "peer-" + id.toString().substring(0, 8), "peer-host", "127.0.0.1", 7474, 7475, 7476,
                "test");
    }

    /**
     * {@code k} devices with ids 1..k, every one named {@code <tag>-<k>-<id>}; so a list shows from any element which
     * list it belongs to, and {@link #checkWhole} can tell a half-written list.
     */
    public static List<DeviceInfo> devices(int k, String tag) {
        List<DeviceInfo> list = new ArrayList<>(k);
        for (int i = 1; i <= k; i++) {
            list.add(new DeviceInfo(i, tag + "-" + k + "-" + i, i % 2 == 0 ? DeviceType.INPUT : DeviceType.OUTPUT));
        }
        return List.copyOf(list);
    }

    public static List<DeviceInfo> devices(int k) {
        return devices(k, "dev");
    }

    public static Handshake handshake(NodeId id, int deviceCount) {
        return new Handshake(node(id), devices(deviceCount));
    }

    public static Handshake handshake(NodeId id, List<DeviceInfo> devices) {
        return new Handshake(node(id), devices);
    }

    /**
     * Null when {@code list} is exactly one list made by {@link #devices(int, String)} (whatever its tag and size);
     * otherwise what is wrong with it, for a failure message.
     */
    public static String checkWhole(List<DeviceInfo> list) {
        if (list == null) {
            return "null device list";
        }
        int k = list.size();
        if (k == 0) {
            return null;
        }
        String first = list.get(0).name();
        int cut = first.lastIndexOf('-');
        String prefix = cut < 0 ? first : first.substring(0, cut + 1); // "<tag>-<k>-"
        if (!prefix.endsWith("-" + k + "-")) {
            return "half-written list: " + k + " devices, the first named " + first;
        }
        for (int i = 0; i < k; i++) {
            DeviceInfo d = list.get(i);
            if (d.id() != i + 1 || !d.name().equals(prefix + (i + 1))) {
                return "half-written list of " + k + " devices: element " + i + " is " + d;
            }
        }
        return null;
    }

    /** A frame carrying {@code number} (0..{@value #MAX_FRAME_NUMBER}) in two MIDI messages. */
    public static DataFrame numberedFrame(int number) {
        if (number < 0 || number > MAX_FRAME_NUMBER) {
            throw new IllegalArgumentException("frame number must be 0.." + MAX_FRAME_NUMBER + ", not " + number);
        }
        MidiMessage low = MidiMessage.of((byte) 0x90, (byte) (number & 0x7f), (byte) ((number >>> 7) & 0x7f));
        MidiMessage high = MidiMessage.of((byte) 0xb0, (byte) ((number >>> 14) & 0x7f),
                (byte) ((number >>> 21) & 0x7f));
        return new DataFrame(1, FRAME_SOURCE, 1, 0, List.of(low, high));
    }

    /** The number {@link #numberedFrame} put into {@code frame}. */
    public static int numberOf(DataFrame frame) {
        MidiMessage low = frame.messages().get(0);
        MidiMessage high = frame.messages().get(1);
        return low.byteAt(1) | (low.byteAt(2) << 7) | (high.byteAt(1) << 14) | (high.byteAt(2) << 21);
    }

    public static ConnectionContext context(Handshaker handshaker, PeerLink link, Duration heartbeatTimeout) {
        return new ConnectionContext("127.0.0.1", 7474, handshaker, link, heartbeatTimeout);
    }

    /** A context whose heartbeat timeout (one hour) never expires during a test. */
    public static ConnectionContext context(Handshaker handshaker, PeerLink link) {
        return context(handshaker, link, Duration.ofHours(1));
    }
}
