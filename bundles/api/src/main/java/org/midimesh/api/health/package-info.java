/**
 * What keeps the node from running everything it was given: bundles installed into it (plugins) that do not resolve
 * or fail to start. Shown by {@code /health} as {@code degraded}.
 */
@Export
@Version("1.0.0")
package org.midimesh.api.health;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
