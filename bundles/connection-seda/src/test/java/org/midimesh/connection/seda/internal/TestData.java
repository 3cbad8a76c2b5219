package org.midimesh.connection.seda.internal;

import java.util.ArrayList;
import java.util.List;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.transport.DataFrame;

/** Nodes, handshakes and frames for the tests. */
final class TestData {

    private static final NodeId SOURCE = NodeId.random();

    private TestData() {
    }

    static NodeInfo node(NodeId id) {
        return new NodeInfo(id, "peer", "peer-host", "127.0.0.1", 7474, 7475, 7476, "0.1.0");
    }

    /** A handshake announcing {@code k} devices with ids 1..k. */
    static Handshake handshake(NodeId id, int k) {
        return new Handshake(node(id), devices(k));
    }

    static List<DeviceInfo> devices(int k) {
        List<DeviceInfo> list = new ArrayList<>(k);
        for (int i = 1; i <= k; i++) {
            list.add(new DeviceInfo(i, "dev-" + k, i % 2 == 0 ? DeviceType.INPUT : DeviceType.OUTPUT));
        }
        return list;
    }

    /** A frame carrying {@code seq} (1..65535) as its source device, so order can be checked. */
    static DataFrame frame(int seq) {
        return new DataFrame(1, SOURCE, seq, 0, List.of(MidiMessage.of((byte) 0x90, (byte) 60, (byte) 100)));
    }

    static int seq(DataFrame f) {
        return f.sourceDevice();
    }
}
