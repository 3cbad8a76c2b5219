/**
 * The strategy SPI: what a connection strategy bundle implements, and the hot-swap protocol between the strategy
 * manager (bundle {@code org.midimesh.strategy}, the only consumer of these services) and the strategies.
 * <p>A strategy bundle registers a {@link org.midimesh.api.strategy.spi.ConnectionStrategy} service with the service
 * property {@value org.midimesh.api.strategy.spi.ConnectionStrategy#STRATEGY_PROPERTY} set to its name. Of several
 * services with one name the highest {@code service.ranking} is used, so a new build of a strategy installed beside
 * the old one with a higher ranking takes over its connections (blue/green).
 * <p>The manager wraps every {@link org.midimesh.api.strategy.spi.ConnectionEngine} in the stable
 * {@link org.midimesh.api.connection.NetworkConnection} its consumers hold, and moves a live connection from one
 * engine to another like this:
 * <ol>
 * <li>it holds every new command back (queued in order, per caller) and waits until no command is running in the old
 * engine, so from here on the old engine is called for nothing but queries;</li>
 * <li>{@link org.midimesh.api.strategy.spi.ConnectionEngine#beginHandover()}: the old engine finishes what it had
 * accepted, delivers every event it raised, and returns its state, including the MIDI it accepted and has not sent;
 * </li>
 * <li>{@link org.midimesh.api.strategy.spi.ConnectionStrategy#adopt} on the other strategy makes the new engine, which
 * sends that MIDI first and continues in the same state;</li>
 * <li>{@link org.midimesh.api.strategy.spi.ConnectionEngine#completeHandover()} retires the old engine (or, when adopt
 * failed, {@link org.midimesh.api.strategy.spi.ConnectionEngine#abortHandover()} lets it go on);</li>
 * <li>the held commands run on the engine that is current now, in order, and then callers reach it directly.</li>
 * </ol>
 * So a call passes through exactly one forward (the stable connection) whatever the number of swaps, and no message
 * is lost, duplicated or reordered by a swap.
 * <p>The contract suite in the api test-jar ({@code org.midimesh.api.test.contract}) checks every point of this
 * package against a strategy; a third-party strategy runs it from its own tests.
 */
@Export
@Version("1.0.0")
package org.midimesh.api.strategy.spi;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
