/**
 * The mesh: peers, their connections and their devices, as this node sees them.
 */
@Export
@Version("1.0.0")
package org.midimesh.api.mesh;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
