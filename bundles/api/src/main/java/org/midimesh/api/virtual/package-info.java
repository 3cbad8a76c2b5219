/**
 * What the built-in virtual driver offers beyond the driver SPI: creating and deleting virtual ports
 * ({@link org.midimesh.api.virtual.VirtualPorts}) and reading what a virtual output played
 * ({@link org.midimesh.api.virtual.ReceivedLog}). Used by the HTTP API; drivers do not need it.
 */
@Export
@Version("1.0.0")
package org.midimesh.api.virtual;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
