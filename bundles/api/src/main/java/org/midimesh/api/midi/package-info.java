/**
 * MIDI messages: validated byte sequences and their classification. Every type here is immutable and thread-safe.
 */
@Export
@Version("1.0.0")
package org.midimesh.api.midi;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
