package org.midimesh.mesh.internal;

import java.io.IOException;

/**
 * The peer answered the handshake with 503: its node runs but is not ready (its mesh is starting or stopping). Its
 * address is dialled again after the first backoff delay, not a longer one: it will answer soon.
 */
final class PeerNotReadyException extends IOException {

    private static final long serialVersionUID = 1L;

    PeerNotReadyException(String message) {
        super(message);
    }
}
