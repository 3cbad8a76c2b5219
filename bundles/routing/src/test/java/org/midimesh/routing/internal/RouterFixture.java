package org.midimesh.routing.internal;

import org.midimesh.api.test.TestLocalNode;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.devices.LocalDevice;
import org.midimesh.api.midi.MessageType;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.routing.RouteEndpoint;
import org.midimesh.api.routing.RouteRequest;

/**
 * A router on fakes: local inputs 1, 2 and outputs 11, 12, 13; a connected peer with input 21 and outputs 31, 32.
 * Test-thread only apart from the fakes, which are thread-safe.
 */
final class RouterFixture {

    static final NodeId LOCAL = NodeId.parse("11111111-1111-1111-1111-111111111111");
    static final NodeId PEER = NodeId.parse("22222222-2222-2222-2222-222222222222");
    static final NodeId STRANGER = NodeId.parse("33333333-3333-3333-3333-333333333333");

    final Path dataDir;
    final TestLocalNode node;
    final FakeDeviceRegistry devices = new FakeDeviceRegistry();
    final FakeMesh mesh = new FakeMesh();
    final FakeConnection peer;
    final LocalDevice in1;
    final LocalDevice in2;
    Router router;

    RouterFixture(Path dataDir) {
        this.dataDir = dataDir;
        this.node = TestLocalNode.of(LOCAL, "test-node", dataDir);
        in1 = devices.add(1, DeviceType.INPUT);
        in2 = devices.add(2, DeviceType.INPUT);
        devices.add(11, DeviceType.OUTPUT);
        devices.add(12, DeviceType.OUTPUT);
        devices.add(13, DeviceType.OUTPUT);
        peer = mesh.addRemoteDevice(PEER, 21, DeviceType.INPUT);
        mesh.addRemoteDevice(PEER, 31, DeviceType.OUTPUT);
        mesh.addRemoteDevice(PEER, 32, DeviceType.OUTPUT);
        router = newRouter();
    }

    /** A new router instance on the same fakes and data dir, as after a restart. */
    Router newRouter() {
        return new Router(node, devices, mesh);
    }

    static RouteEndpoint local(int device) {
        return new RouteEndpoint(LOCAL, device);
    }

    static RouteEndpoint remote(int device) {
        return new RouteEndpoint(PEER, device);
    }

    static RouteRequest route(RouteEndpoint source, RouteEndpoint destination) {
        return new RouteRequest(Optional.of(source), Optional.of(destination), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty());
    }

    static RouteRequest route(RouteEndpoint source, RouteEndpoint destination, int priority, int channel,
            Set<MessageType> types) {
        return new RouteRequest(Optional.of(source), Optional.of(destination), Optional.empty(),
                Optional.of(priority), Optional.of(channel), Optional.of(types));
    }

    static RouteRequest change(Boolean enabled, Integer priority, Integer channel, Set<MessageType> types) {
        return new RouteRequest(Optional.empty(), Optional.empty(), Optional.ofNullable(enabled),
                Optional.ofNullable(priority), Optional.ofNullable(channel), Optional.ofNullable(types));
    }

    /** Control change on channel 1..16. */
    static MidiMessage cc(int channel, int controller, int value) {
        return MidiMessage.of((byte) (0xb0 | (channel - 1)), (byte) controller, (byte) value);
    }

    static MidiMessage noteOn(int channel, int note) {
        return MidiMessage.of((byte) (0x90 | (channel - 1)), (byte) note, (byte) 100);
    }

    static MidiMessage clock() {
        return MidiMessage.of((byte) 0xf8);
    }

    static MidiMessage sysEx() {
        return MidiMessage.of((byte) 0xf0, (byte) 0x7e, (byte) 0x01, (byte) 0xf7);
    }
}
