/**
 * Core identities of the mesh: nodes, devices and the local node's own description.
 * <p>Every type here is immutable and thread-safe.
 */
@Export
@Version("1.0.0")
package org.midimesh.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
