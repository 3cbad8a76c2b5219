/**
 * The load-test driver's public part: {@link org.midimesh.load.driver.LoadCodec}, how a sequence number is carried in
 * one MIDI message. The load tool has its own copy of the same arithmetic; the module's README gives examples both
 * check. The driver itself is private ({@code org.midimesh.load.driver.internal}).
 */
@Export
@Version("1.0.0")
package org.midimesh.load.driver;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
