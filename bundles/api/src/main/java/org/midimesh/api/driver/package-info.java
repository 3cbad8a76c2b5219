/**
 * The MIDI driver SPI. A driver bundle registers a {@link org.midimesh.api.driver.MidiDriver} service that offers
 * ports; the device registry gives each port a stable device id and wires it into the mesh.
 */
@Export
@Version("1.0.0")
package org.midimesh.api.driver;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
