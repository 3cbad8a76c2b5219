package org.midimesh.launcher;

import java.util.List;

/**
 * The parsed command line. Immutable.
 *
 * @param name    empty for the host name
 * @param nodeId  empty for the id kept in the data dir
 * @param adminToken empty for none
 */
public record Options(int httpPort, int udpPort, int tcpPort, String bind, String name, String nodeId,
        String dataDir, List<String> peers, String discovery, String strategy, String adminToken,
        String logLevel) {

    public Options {
        peers = List.copyOf(peers);
    }

    public Options withPorts(int http, int udp, int tcp) {
        return new Options(http, udp, tcp, bind, name, nodeId, dataDir, peers, discovery, strategy, adminToken,
                logLevel);
    }
}
