package org.midimesh.api.connection;

import java.io.IOException;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Performs the HTTP handshake with a peer (POST /network/handshake). Provided by the mesh; strategies call it from
 * their own worker threads. Thread-safe; blocks for at most its configured timeouts.
 */
@ProviderType
public interface Handshaker {

    /**
     * Sends our handshake to {@code host:httpPort} and returns the peer's.
     *
     * @throws IOException when the peer cannot be reached or answers with an error or an invalid body
     */
    Handshake handshake(String host, int httpPort) throws IOException;
}
