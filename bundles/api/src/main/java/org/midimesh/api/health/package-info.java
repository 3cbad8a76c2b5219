/**
 * What keeps the node from running everything it was given: bundles installed into it (plugins) that do not resolve
 * or fail to start. Shown by {@code /health} as {@code degraded}. And what the node does before it says it is ready:
 * the parts of the MIDI path that are {@link org.midimesh.api.health.Warmable} run their code once.
 */
@Export
@Version("1.1.0")
package org.midimesh.api.health;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
