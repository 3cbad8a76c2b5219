package org.midimesh.mesh.internal;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.devices.DeviceRegistry;
import org.midimesh.api.devices.DeviceStatus;
import org.midimesh.api.devices.LocalDevice;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.test.contract.RecordingPeerLink;

/** Nodes, handshakes and small fakes the mesh tests share. Stateless. */
final class Fixtures {

    static final NodeId LOCAL = NodeId.parse("550e8400-e29b-41d4-a716-446655440000");
    static final NodeId PEER = NodeId.parse("660f9511-f39c-52e5-b827-557766551111");
    static final NodeId OTHER = NodeId.parse("770a0622-a40d-63f6-c938-668877662222");

    private Fixtures() {
    }

    /** {@code id}'s handshake as it would arrive: named after the node, two devices. */
    static Handshake handshake(NodeId id, String address, int httpPort) {
        String name = id.equals(PEER) ? "peer" : "node-" + id.toString().substring(0, 4);
        return new Handshake(new NodeInfo(id, name, "h", address, httpPort, httpPort + 1, httpPort + 2, "0.1.0"),
                List.of(new DeviceInfo(1, name + " In", DeviceType.INPUT),
                        new DeviceInfo(2, name + " Out", DeviceType.OUTPUT)));
    }

    /**
     * {@code id}'s handshake carrying version {@code number} of epoch {@code epoch} of its device list: outputs named
     * {@code devices}, with ids 1, 2, ...
     */
    static Handshake versioned(NodeId id, String address, int httpPort, String epoch, long number,
            String... devices) {
        Handshake plain = handshake(id, address, httpPort);
        List<DeviceInfo> list = new java.util.ArrayList<>();
        for (int i = 0; i < devices.length; i++) {
            list.add(new DeviceInfo(i + 1, devices[i], DeviceType.OUTPUT));
        }
        return new Handshake(plain.node(), list, Optional.of(new Handshake.DevicesVersion(epoch, number)));
    }

    /** The names of the devices {@code h} carries. */
    static List<String> names(Handshake h) {
        return h.devices().stream().map(DeviceInfo::name).toList();
    }

    static Handshake peerHandshake() {
        return handshake(PEER, "ignored", 7011);
    }

    /** A context as the mesh makes it; the handshaker fails, the link records. */
    static ConnectionContext context(String host, int httpPort) {
        return new ConnectionContext(host, httpPort, (h, p) -> {
            throw new java.io.IOException("not in these tests");
        }, new RecordingPeerLink(), Duration.ofSeconds(3));
    }

    /** A registry with "local In" (1) and "local Out" (2). */
    static DeviceRegistry devices() {
        return new DeviceRegistry() {
            @Override
            public List<LocalDevice> devices() {
                return List.of(new LocalDevice(1, "local In", DeviceType.INPUT, "virtual"),
                        new LocalDevice(2, "local Out", DeviceType.OUTPUT, "virtual"));
            }

            @Override
            public Optional<LocalDevice> find(int id) {
                return Optional.empty();
            }

            @Override
            public Optional<MidiPort> port(int id) {
                return Optional.empty();
            }

            @Override
            public Optional<DeviceStatus> status(int id) {
                return Optional.empty();
            }

            @Override
            public void send(int id, List<MidiMessage> m) {
            }

            @Override
            public void play(int id, List<MidiMessage> m, NodeId s) {
            }
        };
    }
}
