/**
 * The MidiMesh test kit, for plugin authors: {@link org.midimesh.testkit.MidiMeshOptions} boots a MidiMesh node in a
 * Pax Exam test (on the test class path, in {@code @Configuration}); {@link org.midimesh.testkit.TestNode} and
 * {@link org.midimesh.testkit.Wait} work with that node from inside the framework (in the probe), through its OSGi
 * services, with bounded waits. See {@code docs/plugins.md}.
 */
@Export
@Version("1.0.0")
package org.midimesh.testkit;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
