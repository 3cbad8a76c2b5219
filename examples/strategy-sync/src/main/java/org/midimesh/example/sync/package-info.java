/**
 * The {@code sync} connection strategy: an example of a third-party strategy bundle, written to be read in one
 * sitting. One lock per connection, commands applied under it, events delivered after it on one event thread.
 * <p>Private: a strategy bundle exports nothing. Its only contact with the rest of the node is the
 * {@link org.midimesh.api.strategy.spi.ConnectionStrategy} service it registers.
 */
package org.midimesh.example.sync;
