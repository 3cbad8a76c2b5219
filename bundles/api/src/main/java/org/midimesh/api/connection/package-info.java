/**
 * The connection layer: one {@link org.midimesh.api.connection.NetworkConnection} per peer node, made by a pluggable
 * {@link org.midimesh.api.connection.ConnectionStrategy}, and the pool that holds them.
 * <p>Threading contract for every strategy: public methods are thread-safe and never block on the network; listener
 * callbacks are never invoked while a lock is held, never on the caller's thread, and in order per connection.
 */
@Export
@Version("1.0.0")
package org.midimesh.api.connection;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
