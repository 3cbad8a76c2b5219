package org.midimesh.api;

import java.util.Objects;

/**
 * What a node tells about itself: identity, name and where to reach it. Immutable.
 *
 * @param address host or IP address its peers reach it on
 */
public record NodeInfo(NodeId id, String name, String hostname, String address, int httpPort, int udpPort,
        int tcpPort, String version) {

    public NodeInfo {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(address, "address");
        checkPort("http_port", httpPort);
        checkPort("udp_port", udpPort);
        checkPort("tcp_port", tcpPort);
    }

    private static void checkPort(String field, int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(field + " must be 1..65535, not " + port);
        }
    }

    public NodeInfo withAddress(String newAddress) {
        return new NodeInfo(id, name, hostname, newAddress, httpPort, udpPort, tcpPort, version);
    }
}
