package org.midimesh.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * The bundles of a node: where they are, in which order they are installed, which ones start. Pure file logic, no
 * OSGi: used on the test class path to build the Pax Exam options, and usable inside the framework to list them.
 * Stateless and thread-safe.
 */
public final class NodeBundles {

    /** The folder of the distribution artifact that holds the node's bundles, as the launcher reads it. */
    public static final String EMBEDDED_DIR = "bundles/";

    /** The Gogo console reads the terminal and stops the framework when its input ends: installed, never started. */
    public static final String CONSOLE_SYMBOLIC_NAME = "org.apache.felix.gogo.shell";

    /**
     * Set by {@link MidiMeshOptions#node} to the {@code file:} locations of every bundle it installs, separated by
     * {@code |}, so that a test inside the framework can find them ({@link #installedLocations()}).
     */
    public static final String LOCATIONS_PROPERTY = "midimesh.testkit.locations";

    private NodeBundles() {
    }

    /**
     * The locations of the bundles the last {@link MidiMeshOptions#node} call installed, read from
     * {@value #LOCATIONS_PROPERTY}; works inside the framework too (the native container shares the JVM).
     *
     * @throws IllegalStateException when no node was configured in this JVM
     */
    public static List<String> installedLocations() {
        String v = System.getProperty(LOCATIONS_PROPERTY);
        if (v == null || v.isEmpty()) {
            throw new IllegalStateException(LOCATIONS_PROPERTY + " is not set: no MidiMeshOptions.node(...) ran in"
                    + " this JVM");
        }
        return List.of(v.split("\\|"));
    }

    /**
     * A bundle jar to install.
     *
     * @param symbolicName from its manifest, without attributes (empty when it has none)
     * @param fragment     it has a {@code Fragment-Host}: installed, never started
     * @param start        whether the framework starts it (false for fragments and the console)
     */
    public record BundleFile(Path path, String symbolicName, boolean fragment, boolean start) {

        /** The {@code file:} URL the bundle is installed from, which is also its bundle location. */
        public String location() {
            return path.toUri().toString();
        }
    }

    /** Reads each jar's manifest and returns them in install order (see {@link #installRank(String)}). */
    public static List<BundleFile> describe(List<Path> jars) {
        List<BundleFile> out = new ArrayList<>();
        for (Path jar : jars) {
            Manifest m = manifest(jar);
            String bsn = m == null ? null : m.getMainAttributes().getValue("Bundle-SymbolicName");
            String name = bsn == null ? "" : bsn.split(";", 2)[0].trim();
            boolean fragment = m != null && m.getMainAttributes().getValue("Fragment-Host") != null;
            out.add(new BundleFile(jar, name, fragment, !fragment && !CONSOLE_SYMBOLIC_NAME.equals(name)));
        }
        out.sort(Comparator.comparingInt((BundleFile b) -> installRank(b.symbolicName()))
                .thenComparing(b -> b.path().getFileName().toString()));
        return out;
    }

    /**
     * Logging first, so that slf4j-simple is there before anything logs: the SPI Fly framework extension (0),
     * slf4j-api (1), slf4j-simple (2); then everything else (3), by file name.
     */
    public static int installRank(String symbolicName) {
        if (symbolicName.startsWith("org.apache.aries.spifly")) {
            return 0;
        }
        if (symbolicName.equals("slf4j.api")) {
            return 1;
        }
        if (symbolicName.equals("slf4j.simple")) {
            return 2;
        }
        return 3;
    }

    /**
     * The node's bundle jars from the distribution artifact. A jar (what Maven resolves after {@code package}) is
     * unpacked once into {@code workDir/bundles-<size>-<mtime>/} and reused by later calls; a directory (a reactor
     * build that stopped before {@code package}) is read in place from its {@code bundles/}.
     *
     * @throws IllegalStateException naming the artifact when it holds no bundles
     */
    public static List<Path> fromDistribution(Path distribution, Path workDir) {
        Path dir;
        if (!Files.exists(distribution)) {
            throw new IllegalStateException("the MidiMesh distribution " + distribution + " does not exist");
        }
        if (Files.isDirectory(distribution)) {
            dir = distribution.resolve(EMBEDDED_DIR);
        } else {
            dir = extract(distribution, workDir);
        }
        List<Path> jars = jarsIn(dir);
        if (jars.isEmpty()) {
            throw new IllegalStateException("the MidiMesh distribution " + distribution + " has no bundles under "
                    + EMBEDDED_DIR + " (was it built with 'package'?)");
        }
        return jars;
    }

    /**
     * Unpacks the {@code bundles/*.jar} entries of {@code jar} into a folder of {@code workDir} named after the jar's
     * size and modification time, and returns that folder. The unpacking goes to a temporary folder that is then
     * renamed, so a folder that exists is complete; an existing one is reused.
     */
    public static Path extract(Path jar, Path workDir) {
        try {
            Files.createDirectories(workDir);
            Path target = workDir.resolve("bundles-" + Files.size(jar) + "-" + Files.getLastModifiedTime(jar)
                    .toMillis());
            if (Files.isDirectory(target)) {
                return target;
            }
            Path tmp = Files.createTempDirectory(workDir, "unpacking-");
            int n = 0;
            try (JarFile jf = new JarFile(jar.toFile())) {
                for (Enumeration<JarEntry> e = jf.entries(); e.hasMoreElements();) {
                    JarEntry entry = e.nextElement();
                    String name = entry.getName();
                    if (!name.startsWith(EMBEDDED_DIR) || !name.endsWith(".jar") || entry.isDirectory()) {
                        continue;
                    }
                    String file = name.substring(EMBEDDED_DIR.length());
                    if (file.isEmpty() || file.contains("/") || file.contains("\\") || file.startsWith(".")) {
                        continue; // only the jars directly under bundles/, as the launcher installs them
                    }
                    try (InputStream in = jf.getInputStream(entry)) {
                        Files.copy(in, tmp.resolve(file));
                    }
                    n++;
                }
            }
            if (n == 0) {
                deleteTree(tmp);
                throw new IllegalStateException("no " + EMBEDDED_DIR + "*.jar inside " + jar
                        + ": is it the midimesh-distribution artifact?");
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
                deleteTree(tmp); // another JVM unpacked the same jar meanwhile
            } catch (IOException e) {
                if (!Files.isDirectory(target)) {
                    throw e;
                }
                deleteTree(tmp);
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unpack the node's bundles from " + jar + " into " + workDir, e);
        }
    }

    /** The {@code *.jar} files directly in {@code dir}, by name; empty when it does not exist. */
    public static List<Path> jarsIn(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".jar") && Files.isRegularFile(p))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    /**
     * The jar (or class folder) a class-path resource comes from.
     *
     * @param resource for example {@code org/slf4j/LoggerFactory.class}
     * @param what     for the failure message, for example {@code "slf4j-api"}
     * @throws IllegalStateException naming the missing artifact when the resource is not on the class path
     */
    public static Path classPathRoot(ClassLoader loader, String resource, String what) {
        URL url = loader.getResource(resource);
        if (url == null) {
            throw new IllegalStateException(what + " is not on the test class path (no " + resource
                    + "); the midimesh-testkit dependency brings it, check its exclusions");
        }
        return rootOf(url, resource);
    }

    /** The jar or folder of a resource URL ({@code jar:file:/x.jar!/r} gives {@code /x.jar}). */
    static Path rootOf(URL url, String resource) {
        try {
            String s = url.toString();
            if (s.startsWith("jar:")) {
                String file = s.substring("jar:".length(), s.indexOf("!/"));
                return Path.of(new URI(file));
            }
            if (s.startsWith("file:") && s.endsWith(resource)) {
                return Path.of(new URI(s.substring(0, s.length() - resource.length())));
            }
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new IllegalStateException("cannot turn " + url + " into a file", e);
        }
        throw new IllegalStateException(url + " is neither in a jar nor in a folder on the file system");
    }

    private static Manifest manifest(Path jar) {
        try (JarFile jf = new JarFile(jar.toFile())) {
            return jf.getManifest();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + jar, e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
