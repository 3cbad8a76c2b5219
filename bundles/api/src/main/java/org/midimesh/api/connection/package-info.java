/**
 * The connection layer as its consumers see it: one {@link org.midimesh.api.connection.NetworkConnection} per peer
 * node, held by the {@link org.midimesh.api.connection.ConnectionPool}, stable for the node's lifetime.
 * <p>Threading contract: public methods are thread-safe and never block on the network; listener callbacks are never
 * invoked while a lock is held, never on the caller's thread, and in order per connection.
 * <p>How a connection does its work is pluggable (package {@code org.midimesh.api.strategy.spi}); consumers never see
 * it, and it can change while the connection lives (hot swap).
 * <p>2.0.0: the handover methods left {@code NetworkConnection} (they are the strategy SPI now);
 * {@code ConnectionStrategy} and {@code ConnectionHandover} moved there; {@code ConnectionMetrics} gained
 * {@code stalls}.
 * <p>2.1.0: {@code Handshake} carries the optional version of the sender's device list
 * ({@code Handshake.DevicesVersion}).
 */
@Export
@Version("2.1.0")
package org.midimesh.api.connection;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
