package org.midimesh.mesh.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.LocalNode;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.Handshake.DevicesVersion;
import org.midimesh.api.devices.DeviceRegistry;
import org.midimesh.api.devices.LocalDevice;

/**
 * This node's handshake: its node, its local devices and the version of that list (docs/protocol.md, "Handshake").
 * The version counts the changes the device registry reported since the mesh started, under an epoch drawn anew at
 * every start; a peer keeps the list of the highest version it got, whatever order the handshakes arrived in.
 * <p>Threads: {@link #changed} runs on the device registry's callers, {@link #handshake} on the mesh pool, the
 * strategies' handshake threads and HTTP threads. Holds no lock.
 */
final class LocalDeviceList {

    private final LocalNode local;
    private final DeviceRegistry devices;
    private final String epoch = UUID.randomUUID().toString().replace("-", "");
    // Changes of the local devices so far. Incremented by changed(), which the registry calls after it published the
    // new list; read by handshake() before it reads the list: so a handshake's list is at least as new as its version
    // says. A counter only; it publishes nothing else.
    private final AtomicLong version = new AtomicLong();

    LocalDeviceList(LocalNode local, DeviceRegistry devices) {
        this.local = local;
        this.devices = devices;
    }

    /** The local devices changed (the registry has the new list already); returns the new version. */
    long changed() {
        return version.incrementAndGet();
    }

    /** The version of the list as of now: 0 for the list the mesh started with. */
    long version() {
        return version.get();
    }

    /**
     * This node's handshake with the local devices as they are now: reachable at the bind address, or at the host name
     * when bound to every interface.
     */
    Handshake handshake() {
        long v = version.get(); // before the list: the list read next is at least this new
        String bind = local.bindAddress();
        String address = "0.0.0.0".equals(bind) || "::".equals(bind) ? local.hostname() : bind;
        List<DeviceInfo> list = new ArrayList<>();
        for (LocalDevice d : devices.devices()) {
            list.add(d.toInfo());
        }
        return new Handshake(local.toNodeInfo(address), list, Optional.of(new DevicesVersion(epoch, v)));
    }
}
