package org.midimesh.mesh.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.DeviceInfo;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.Handshake.DevicesVersion;
import org.midimesh.api.test.TestLocalNode;

@Timeout(10)
class LocalDeviceListTest {

    final TestLocalNode local = TestLocalNode.of(Fixtures.LOCAL, "local", Path.of("target"));
    final LocalDeviceList list = new LocalDeviceList(local, Fixtures.devices());

    @Test
    void shouldCarryTheDevicesAndTheCountOfChangesSinceTheStart() {
        Handshake first = list.handshake();
        assertEquals(Fixtures.LOCAL, first.node().id());
        assertEquals(List.of("local In", "local Out"), first.devices().stream().map(DeviceInfo::name).toList());
        DevicesVersion v0 = first.devicesVersion().orElseThrow();
        assertEquals(0, v0.number());
        assertEquals(1, list.changed());
        assertEquals(1, list.version());
        DevicesVersion v1 = list.handshake().devicesVersion().orElseThrow();
        assertEquals(new DevicesVersion(v0.epoch(), 1), v1);
    }

    @Test
    void shouldDrawAnotherEpochAtEveryStart() {
        LocalDeviceList again = new LocalDeviceList(local, Fixtures.devices());
        assertNotEquals(list.handshake().devicesVersion().orElseThrow().epoch(),
                again.handshake().devicesVersion().orElseThrow().epoch());
    }
}
