package org.midimesh.http.internal;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.Handshake.DevicesVersion;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The JSON form of a {@link Handshake} (request and reply of {@code POST /network/handshake}; the README's "Handshake
 * JSON" section is its specification) and the strict mapping both ways. Stateless.
 */
final class HandshakeJson {

    static final int MAX_TEXT = 256;

    /**
     * The wire shape; with the API mapper the fields are snake_case. Unknown fields are ignored (unlike the rest of the
     * API): a newer peer may add fields without breaking the handshake with this version.
     */
    @com.fasterxml.jackson.annotation.JsonIgnoreProperties(ignoreUnknown = true)
    record Dto(String nodeId, String nodeName, String version, Integer httpPort, Integer udpPort, Integer tcpPort,
            String hostname, List<DeviceDto> devices,
            @JsonInclude(JsonInclude.Include.NON_NULL) String devicesEpoch,
            @JsonInclude(JsonInclude.Include.NON_NULL) Long devicesVersion) {

        /** A handshake without a device list version (as from peers before it existed). */
        Dto(String nodeId, String nodeName, String version, Integer httpPort, Integer udpPort, Integer tcpPort,
                String hostname, List<DeviceDto> devices) {
            this(nodeId, nodeName, version, httpPort, udpPort, tcpPort, hostname, devices, null, null);
        }
    }

    @com.fasterxml.jackson.annotation.JsonIgnoreProperties(ignoreUnknown = true)
    record DeviceDto(Integer id, String name, String type) {
    }

    private HandshakeJson() {
    }

    /** Our handshake as JSON. */
    static Dto toDto(Handshake h) {
        NodeInfo n = h.node();
        List<DeviceDto> devices = new ArrayList<>(h.devices().size());
        for (DeviceInfo d : h.devices()) {
            devices.add(new DeviceDto(d.id(), d.name(), d.type().wireName()));
        }
        return new Dto(n.id().toString(), n.name(), n.version(), n.httpPort(), n.udpPort(), n.tcpPort(), n.hostname(),
                devices, h.devicesVersion().map(DevicesVersion::epoch).orElse(null),
                h.devicesVersion().map(DevicesVersion::number).orElse(null));
    }

    /**
     * A peer's handshake, reached at {@code remoteAddress}.
     *
     * @throws IllegalArgumentException naming the first invalid field (for example {@code devices[2].type})
     */
    static Handshake fromDto(Dto dto, String remoteAddress) {
        String nodeId = required(dto.nodeId(), "node_id");
        NodeId id;
        try {
            id = NodeId.parse(nodeId);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("node_id: not a UUID (36 characters, or 32 hex digits)");
        }
        String name = text(dto.nodeName(), "node_name");
        String version = text(dto.version(), "version");
        String hostname = dto.hostname() == null ? null : text(dto.hostname(), "hostname");
        int http = port(dto.httpPort(), "http_port");
        int udp = port(dto.udpPort(), "udp_port");
        int tcp = port(dto.tcpPort(), "tcp_port");
        List<DeviceDto> list = required(dto.devices(), "devices");
        if (list.size() > DeviceInfo.MAX_ID) {
            throw new IllegalArgumentException("devices: more than " + DeviceInfo.MAX_ID + " devices");
        }
        List<DeviceInfo> devices = new ArrayList<>(list.size());
        Set<Integer> ids = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String at = "devices[" + i + "]";
            DeviceDto d = required(list.get(i), at);
            int devId = required(d.id(), at + ".id");
            if (devId < 1 || devId > DeviceInfo.MAX_ID) {
                throw new IllegalArgumentException(at + ".id must be 1.." + DeviceInfo.MAX_ID + ", not " + devId);
            }
            if (!ids.add(devId)) {
                throw new IllegalArgumentException(at + ".id: duplicate device id " + devId);
            }
            String devName = text(d.name(), at + ".name");
            DeviceType type;
            try {
                type = DeviceType.fromWireName(required(d.type(), at + ".type"));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(at + ".type must be \"input\" or \"output\"");
            }
            devices.add(new DeviceInfo(devId, devName, type));
        }
        return new Handshake(new NodeInfo(id, name, hostname, remoteAddress, http, udp, tcp, version), devices,
                DevicesVersion.fromWire(dto.devicesEpoch(), dto.devicesVersion()));
    }

    private static <T> T required(T value, String field) {
        if (value == null) {
            throw new IllegalArgumentException(field + " is missing");
        }
        return value;
    }

    private static String text(String value, String field) {
        required(value, field);
        if (value.isBlank() || value.length() > MAX_TEXT || value.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException(field + " must be 1.." + MAX_TEXT
                    + " characters, not blank, without control characters");
        }
        return value;
    }

    private static int port(Integer value, String field) {
        int p = required(value, field);
        if (p < 1 || p > 65535) {
            throw new IllegalArgumentException(field + " must be 1..65535, not " + p);
        }
        return p;
    }
}
