/**
 * Routes: which input in the mesh feeds which output in the mesh, with filters and statistics.
 */
@Export
@Version("2.0.0")
package org.midimesh.api.routing;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
