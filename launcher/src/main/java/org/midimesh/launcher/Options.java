package org.midimesh.launcher;

import java.util.List;

/**
 * The parsed command line. Immutable.
 *
 * @param name    empty for the host name
 * @param nodeId  empty for the id kept in the data dir
 * @param adminToken empty for none
 * @param strategy   empty when {@code --strategy} was not given
 * @param shell      open the Gogo shell on the terminal once the node is ready
 */
public record Options(int httpPort, int udpPort, int tcpPort, String bind, String name, String nodeId,
        String dataDir, List<String> peers, String discovery, String strategy, String adminToken,
        String logLevel, boolean shell) {

    public Options {
        peers = List.copyOf(peers);
    }

    public Options withPorts(int http, int udp, int tcp) {
        return new Options(http, udp, tcp, bind, name, nodeId, dataDir, peers, discovery, strategy, adminToken,
                logLevel, shell);
    }
}
