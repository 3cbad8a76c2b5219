/**
 * This node's local MIDI devices: every port of every driver, each under a small stable device id.
 */
@Export
@Version("1.1.0")
package org.midimesh.api.devices;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
