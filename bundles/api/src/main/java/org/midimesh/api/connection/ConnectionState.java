package org.midimesh.api.connection;

import java.util.Locale;

/**
 * Lifecycle of a connection. DISCONNECTED to CONNECTING (connect), CONNECTING to CONNECTED (handshake done) or FAILED
 * (handshake error), CONNECTED to FAILED (heartbeat timeout), any state to DISCONNECTED (disconnect or goodbye), and
 * any state to CONNECTED when the peer completes a handshake with us.
 */
public enum ConnectionState {
    DISCONNECTED, CONNECTING, CONNECTED, FAILED;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
