package org.midimesh.mesh.internal;

import java.util.ArrayList;
import java.util.List;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.Handshake.DevicesVersion;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The JSON body of POST /network/handshake, both ways (docs/protocol.md "Handshake"). Immutable.
 * Unknown fields are ignored so that newer peers can add fields.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
record HandshakeMessage(@JsonProperty("node_id") String nodeId, @JsonProperty("node_name") String nodeName,
        @JsonProperty("hostname") String hostname, @JsonProperty("version") String version,
        @JsonProperty("http_port") int httpPort, @JsonProperty("udp_port") int udpPort,
        @JsonProperty("tcp_port") int tcpPort, @JsonProperty("devices") List<Device> devices,
        @JsonProperty("devices_epoch") @JsonInclude(JsonInclude.Include.NON_NULL) String devicesEpoch,
        @JsonProperty("devices_version") @JsonInclude(JsonInclude.Include.NON_NULL) Long devicesVersion) {

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Device(@JsonProperty("id") int id, @JsonProperty("name") String name, @JsonProperty("type") String type) {
    }

    static HandshakeMessage of(Handshake h) {
        List<Device> ds = new ArrayList<>();
        for (DeviceInfo d : h.devices()) {
            ds.add(new Device(d.id(), d.name(), d.type().wireName()));
        }
        NodeInfo n = h.node();
        return new HandshakeMessage(n.id().toString(), n.name(), n.hostname(), n.version(), n.httpPort(), n.udpPort(),
                n.tcpPort(), ds, h.devicesVersion().map(DevicesVersion::epoch).orElse(null),
                h.devicesVersion().map(DevicesVersion::number).orElse(null));
    }

    /**
     * The handshake this message describes, for a peer reached at {@code address}.
     *
     * @throws IllegalArgumentException naming the field that is missing or invalid
     */
    Handshake toHandshake(String address) {
        if (nodeId == null) {
            throw new IllegalArgumentException("node_id is missing");
        }
        if (nodeName == null || nodeName.isBlank()) {
            throw new IllegalArgumentException("node_name is missing");
        }
        NodeId id;
        try {
            id = NodeId.parse(nodeId);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("node_id: " + e.getMessage());
        }
        NodeInfo node = new NodeInfo(id, nodeName, hostname == null ? "" : hostname, address, httpPort, udpPort,
                tcpPort, version == null ? "" : version);
        List<DeviceInfo> list = new ArrayList<>();
        if (devices != null) {
            for (int i = 0; i < devices.size(); i++) {
                Device d = devices.get(i);
                try {
                    list.add(new DeviceInfo(d.id(), d.name(), DeviceType.fromWireName(d.type())));
                } catch (IllegalArgumentException | NullPointerException e) {
                    throw new IllegalArgumentException("devices[" + i + "]: " + e.getMessage());
                }
            }
        }
        return new Handshake(node, list, DevicesVersion.fromWire(devicesEpoch, devicesVersion));
    }
}
