package org.midimesh.mesh.internal;

import org.midimesh.api.connection.NetworkConnection;

/**
 * Makes a connection to a peer address, and ends one the mesh decided not to keep. The mesh's opener of record is
 * {@link Dialler}: it opens through {@code StrategyControl} and listens to every connection it opens. Thread-safe.
 */
interface Opener {

    /** A new connection (DISCONNECTED) to the peer answering HTTP on {@code host:httpPort}; the caller owns it. */
    NetworkConnection open(String host, int httpPort);

    /** Ends {@code c}, which was opened here and is kept nowhere: it says nothing to the peer. */
    default void discard(NetworkConnection c) {
        c.close();
    }
}
