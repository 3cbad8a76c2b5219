package org.midimesh.api.connection;

import java.util.Locale;

/**
 * Lifecycle of a connection. DISCONNECTED to CONNECTING (connect), CONNECTING to CONNECTED (handshake done) or FAILED
 * (handshake error), CONNECTED to FAILED (heartbeat timeout), any state to DISCONNECTED (disconnect or goodbye), and
 * any state to CONNECTED when the peer completes a handshake with us.
 */
public enum ConnectionState {
    DISCONNECTED, CONNECTING, CONNECTED, FAILED;

    /**
     * Whether a connection may go from this state to {@code to} (the transitions above; staying put is no change and
     * not asked here).
     */
    public boolean canChangeTo(ConnectionState to) {
        return switch (to) {
            case DISCONNECTED, CONNECTED -> true;
            case CONNECTING -> this == DISCONNECTED || this == FAILED;
            case FAILED -> this == CONNECTING || this == CONNECTED;
        };
    }

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
