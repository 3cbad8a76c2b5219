package org.midimesh.api.connection;

import java.time.Duration;
import java.util.Objects;

/**
 * What a strategy needs to make a connection: where the peer is, how to handshake and how to send.
 *
 * @param host             address of the peer's HTTP endpoint
 * @param httpPort         the peer's HTTP port
 * @param handshaker       performs the outbound handshake
 * @param link             sends datagrams to the peer once connected
 * @param heartbeatTimeout time without a heartbeat after which a connected peer counts as failed
 */
public record ConnectionContext(String host, int httpPort, Handshaker handshaker, PeerLink link,
        Duration heartbeatTimeout) {

    public ConnectionContext {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(handshaker, "handshaker");
        Objects.requireNonNull(link, "link");
        Objects.requireNonNull(heartbeatTimeout, "heartbeatTimeout");
        if (httpPort < 1 || httpPort > 65535) {
            throw new IllegalArgumentException("http_port must be 1..65535, not " + httpPort);
        }
    }
}
