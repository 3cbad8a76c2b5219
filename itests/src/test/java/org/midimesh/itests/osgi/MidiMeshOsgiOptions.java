package org.midimesh.itests.osgi;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;

import org.midimesh.testkit.MidiMeshOptions;
import org.midimesh.testkit.NodeBundles;
import org.ops4j.pax.exam.Option;

/**
 * The Pax Exam configuration of a MidiMesh node inside Felix, for MidiMesh's own tests. It is the test kit's
 * ({@link MidiMeshOptions}, module {@code testkit}), so that the kit plugin authors use is the one these tests run
 * on: the bundles embedded in {@code midimesh-distribution}, the framework properties of the launcher's
 * {@code Main.nodeProperties}, and the Pax Exam settings of {@code shared/reference/stack.md} (logging bundles first,
 * {@code felix.bootdelegation.implicit=false}, fragments not started, no start levels, {@code file:} URLs). Also used
 * inside the probe to find the node's bundles.
 */
final class MidiMeshOsgiOptions {

    static final String CONFIG = MidiMeshOptions.CONFIG;
    static final String HTTP_PORT = MidiMeshOptions.HTTP_PORT;
    static final String LOOPBACK = MidiMeshOptions.LOOPBACK;

    private MidiMeshOsgiOptions() {
    }

    /** Free loopback ports, a fresh data dir, discovery off, strategy mutex, and every bundle of the node. */
    static Option[] node(String name) {
        return node(name, "mutex");
    }

    /** As {@link #node(String)}, with {@code strategy} as the node's default connection strategy. */
    static Option[] node(String name, String strategy) {
        return MidiMeshOptions.node("itest-" + name, strategy);
    }

    /** The kit's work folder under target/ (the unpacked bundles and the data dirs are in it). */
    static Path stagedDir() {
        return MidiMeshOptions.workDir();
    }

    /** Every bundle the node installed (the test kit's list), in install order. Works inside the probe. */
    static List<Path> stagedBundles() {
        return NodeBundles.installedLocations().stream().map(l -> Path.of(URI.create(l))).toList();
    }

    static String location(Path jar) {
        return jar.toUri().toString();
    }

    static int freeTcpPort() {
        return MidiMeshOptions.freeTcpPort();
    }

    static int freeUdpPort() {
        return MidiMeshOptions.freeUdpPort();
    }
}
