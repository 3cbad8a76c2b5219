package org.midimesh.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(10)
class NodeBundlesTest {

    @TempDir
    Path dir;

    @Test
    void loggingFirstThenByFileNameAndOnlyPlainBundlesStart() throws IOException {
        List<Path> jars = List.of(
                bundle("zeta.jar", "org.midimesh.zeta", null),
                bundle("slf4j-simple-2.0.17.jar", "slf4j.simple", null),
                bundle("alpha.jar", "org.midimesh.alpha;singleton:=true", null),
                bundle("gogo-shell.jar", NodeBundles.CONSOLE_SYMBOLIC_NAME, null),
                bundle("slf4j-api-2.0.17.jar", "slf4j.api", null),
                bundle("fragment.jar", "org.midimesh.fragment", "org.midimesh.alpha"),
                bundle("spifly.jar", "org.apache.aries.spifly.dynamic.framework.extension", "system.bundle"));

        List<NodeBundles.BundleFile> ordered = NodeBundles.describe(jars);

        assertEquals(List.of("spifly.jar", "slf4j-api-2.0.17.jar", "slf4j-simple-2.0.17.jar", "alpha.jar",
                "fragment.jar", "gogo-shell.jar", "zeta.jar"),
                ordered.stream().map(b -> b.path().getFileName().toString()).toList());
        assertEquals("org.midimesh.alpha", ordered.get(3).symbolicName(), "attributes are cut off the name");
        assertEquals(List.of(false, true, true, true, false, false, true),
                ordered.stream().map(NodeBundles.BundleFile::start).toList(),
                "fragments (SPI Fly is one) and the console are installed but not started");
        assertTrue(ordered.get(0).fragment());
        assertEquals(ordered.get(3).path().toUri().toString(), ordered.get(3).location());
    }

    @Test
    void extractsOnlyTheJarsDirectlyUnderBundlesAndReusesTheResult() throws IOException {
        Path dist = distribution("dist.jar", "bundles/a.jar", "bundles/b.jar", "bundles/nested/c.jar",
                "bundles/readme.txt", "org/midimesh/launcher/Main.class");
        Path work = dir.resolve("work");

        List<Path> first = NodeBundles.fromDistribution(dist, work);
        assertEquals(List.of("a.jar", "b.jar"), first.stream().map(p -> p.getFileName().toString()).toList());
        assertEquals("content of bundles/a.jar", Files.readString(first.get(0)));
        try (Stream<Path> s = Files.list(work)) {
            assertEquals(1, s.count(), "one folder, no temporary leftovers");
        }

        Files.writeString(first.get(0), "changed");
        List<Path> again = NodeBundles.fromDistribution(dist, work);
        assertEquals(first, again);
        assertEquals("changed", Files.readString(again.get(0)), "an unpacked folder is reused, not unpacked again");
    }

    @Test
    void aDistributionWithoutBundlesFailsNamingIt() throws IOException {
        Path dist = distribution("empty.jar", "org/midimesh/launcher/Main.class");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> NodeBundles.fromDistribution(dist, dir.resolve("work")));
        assertTrue(e.getMessage().contains("empty.jar"), e.getMessage());
        try (Stream<Path> s = Files.list(dir.resolve("work"))) {
            assertEquals(0, s.count(), "the temporary folder is removed");
        }
    }

    @Test
    void aDistributionFolderIsReadInPlace() throws IOException {
        Path classes = dir.resolve("classes");
        Files.createDirectories(classes.resolve("bundles"));
        Files.writeString(classes.resolve("bundles/x.jar"), "x");
        assertEquals(List.of(classes.resolve("bundles/x.jar")),
                NodeBundles.fromDistribution(classes, dir.resolve("work")));
        assertFalse(Files.exists(dir.resolve("work")), "nothing unpacked");
        assertThrows(IllegalStateException.class,
                () -> NodeBundles.fromDistribution(dir.resolve("nothing"), dir.resolve("work")));
    }

    @Test
    void theRootOfAResourceIsItsJarOrFolder() throws Exception {
        Path jar = dir.resolve("with space.jar");
        String r = "org/slf4j/LoggerFactory.class";
        assertEquals(jar, NodeBundles.rootOf(new URI("jar:" + jar.toUri() + "!/" + r).toURL(), r));
        Path folder = dir.resolve("classes");
        assertEquals(folder, NodeBundles.rootOf(folder.resolve(r).toUri().toURL(), r));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> NodeBundles.classPathRoot(getClass().getClassLoader(), "no/such/Thing.class", "thing-api"));
        assertTrue(e.getMessage().contains("thing-api"), e.getMessage());
    }

    @Test
    void installedLocationsComeFromTheSystemProperty() {
        String before = System.getProperty(NodeBundles.LOCATIONS_PROPERTY);
        try {
            System.clearProperty(NodeBundles.LOCATIONS_PROPERTY);
            assertThrows(IllegalStateException.class, NodeBundles::installedLocations);
            System.setProperty(NodeBundles.LOCATIONS_PROPERTY, "file:/a.jar|file:/b%20c.jar");
            assertEquals(List.of("file:/a.jar", "file:/b%20c.jar"), NodeBundles.installedLocations());
        } finally {
            if (before == null) {
                System.clearProperty(NodeBundles.LOCATIONS_PROPERTY);
            } else {
                System.setProperty(NodeBundles.LOCATIONS_PROPERTY, before);
            }
        }
    }

    private Path bundle(String file, String symbolicName, String fragmentHost) throws IOException {
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().putValue("Bundle-SymbolicName", symbolicName);
        if (fragmentHost != null) {
            m.getMainAttributes().putValue("Fragment-Host", fragmentHost);
        }
        Path jar = dir.resolve(file);
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), m)) {
            out.putNextEntry(new JarEntry("x.txt"));
            out.closeEntry();
        }
        return jar;
    }

    private Path distribution(String file, String... entries) throws IOException {
        Path jar = dir.resolve(file);
        try (OutputStream os = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(os)) {
            out.putNextEntry(new JarEntry("bundles/"));
            out.closeEntry();
            for (String e : entries) {
                out.putNextEntry(new JarEntry(e));
                out.write(("content of " + e).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                out.closeEntry();
            }
        }
        return jar;
    }
}
