/**
 * Realtime datagram transport: the frames it carries and the events it delivers.
 */
@Export
@Version("1.0.0")
package org.midimesh.api.transport;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
