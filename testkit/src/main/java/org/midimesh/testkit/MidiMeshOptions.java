package org.midimesh.testkit;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.cleanCaches;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.midimesh.launcher.Main;
import org.midimesh.launcher.Options;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.options.UrlProvisionOption;

/**
 * Pax Exam options that boot a MidiMesh node inside the test framework, configured exactly as {@code midimesh.jar}
 * boots one: the bundles embedded in the {@code midimesh-distribution} artifact, the framework properties of
 * {@code org.midimesh.launcher.Main.nodeProperties} (free loopback ports, a fresh data dir, discovery off), plus this
 * kit's own bundle so the probe can use {@link TestNode}. Runs on the test class path, in {@code @Configuration}:
 * <pre>{@code
 * @Configuration
 * public Option[] config() {
 *     return MidiMeshOptions.node("my-test", MidiMeshOptions.plugin(MidiMeshOptions.projectBundle()));
 * }
 * }</pre>
 * <p>Pax Exam pitfalls it handles (see the project's stack notes): Pax Exam's own Pax Logging stays, and slf4j-api,
 * slf4j-simple and the SPI Fly framework extension are installed before every other bundle, so slf4j-simple is there
 * before anything logs; {@code felix.bootdelegation.implicit=false}, else slf4j-api's ServiceLoader sees the test
 * class path's slf4j-simple ("SimpleServiceProvider not a subtype"); no start levels (bundles above Pax Exam's start
 * level never start); fragments are installed but not started, and the Gogo console (only for {@code --shell}) is
 * left out; {@code cleanCaches(true)}; every bundle by {@code file:} URL, so nothing needs to be in {@code ~/.m2}
 * (a clean CI clone runs {@code verify}).
 * <p>Files go under {@link #workDir()}. Thread-safe (stateless but for the files).
 */
public final class MidiMeshOptions {

    /** Where the kit puts the unpacked bundles and data dirs; default {@code <user.dir>/target/midimesh-testkit}. */
    public static final String WORK_DIR_PROPERTY = "midimesh.testkit.dir";
    /** The framework property of the node's HTTP port. */
    public static final String HTTP_PORT = "org.osgi.service.http.port";
    /** Prefix of the framework properties that configure the node ({@code midimesh.config.data_dir}, ...). */
    public static final String CONFIG = "midimesh.config.";
    public static final String LOOPBACK = "127.0.0.1";

    private static final String DISTRIBUTION_MARKER =
            "META-INF/maven/org.midimesh/midimesh-distribution/pom.properties";

    private MidiMeshOptions() {
    }

    /** A node named {@code name}, with the default connection strategy, plus {@code extra} options (plugins...). */
    public static Option[] node(String name, Option... extra) {
        return node(name, "", extra);
    }

    /**
     * A node named {@code name} whose default connection strategy is {@code strategy} (empty: the node decides), plus
     * {@code extra} options.
     */
    public static Option[] node(String name, String strategy, Option... extra) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("the node needs a name");
        }
        int http = freeTcpPort();
        int tcp = freeTcpPort();
        while (tcp == http) {
            tcp = freeTcpPort();
        }
        int udp = freeUdpPort();
        Path dataDir = freshDataDir(name);

        List<Option> options = new ArrayList<>();
        options.add(cleanCaches(true));
        options.add(junitBundles());
        // Pax Logging is Pax Exam's; without this it prints thousands of SPI Fly DEBUG lines.
        options.add(systemProperty("org.ops4j.pax.logging.DefaultServiceLog.level").value("WARN"));
        // slf4j-simple (the provider the node logs through) reads these when it makes its first logger.
        options.add(systemProperty("org.slf4j.simpleLogger.defaultLogLevel").value("info"));
        options.add(systemProperty("org.slf4j.simpleLogger.logFile").value("System.err"));
        options.add(systemProperty("org.slf4j.simpleLogger.showDateTime").value("true"));
        options.add(systemProperty("org.slf4j.simpleLogger.dateTimeFormat").value("HH:mm:ss.SSS"));
        options.add(systemProperty("org.slf4j.simpleLogger.showShortLogName").value("true"));
        options.add(systemProperty("org.slf4j.simpleLogger.log.org.eclipse.jetty").value("warn"));
        // Felix's implicit boot delegation would let slf4j-api's ServiceLoader (a JDK class asking a bundle class
        // loader) see the test class path's slf4j-simple: "SimpleServiceProvider not a subtype", then NOP logging.
        options.add(frameworkProperty("felix.bootdelegation.implicit").value("false"));
        // Exactly the node settings the launcher gives Felix (ports, bind, data dir, hot deploy, midimesh.config.*).
        Options node = new Options(http, udp, tcp, LOOPBACK, name, "", dataDir.toString(), List.of(), "none",
                strategy == null ? "" : strategy, "", "info", false);
        Main.nodeProperties(node, dataDir).forEach((k, v) -> options.add(frameworkProperty(k).value(v)));

        List<NodeBundles.BundleFile> bundles = bundles();
        for (NodeBundles.BundleFile b : bundles) {
            UrlProvisionOption o = bundle(b.location());
            options.add(b.start() ? o : o.noStart());
        }
        System.setProperty(NodeBundles.LOCATIONS_PROPERTY,
                String.join("|", bundles.stream().map(NodeBundles.BundleFile::location).toList()));
        options.addAll(Arrays.asList(extra));
        return options.toArray(new Option[0]);
    }

    /** Installs (and, unless it is a fragment, starts) a bundle jar such as a plugin's, by {@code file:} URL. */
    public static Option plugin(Path jar) {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalArgumentException("no bundle jar at " + jar.toAbsolutePath());
        }
        NodeBundles.BundleFile b = NodeBundles.describe(List.of(jar.toAbsolutePath().normalize())).get(0);
        if (b.symbolicName().isEmpty()) {
            throw new IllegalArgumentException(jar + " is not an OSGi bundle (no Bundle-SymbolicName in its manifest)");
        }
        UrlProvisionOption o = bundle(b.location());
        return b.fragment() ? o.noStart() : o;
    }

    /**
     * The bundle this Maven module built: the one jar in {@code target/} that is not a sources, javadoc or tests jar.
     * Failsafe runs after {@code package}, so it is there.
     *
     * @throws IllegalStateException when there is none or more than one
     */
    public static Path projectBundle() {
        Path target = Path.of(System.getProperty("user.dir"), "target").toAbsolutePath().normalize();
        List<Path> jars = NodeBundles.jarsIn(target).stream().filter(p -> {
            String n = p.getFileName().toString();
            return !n.endsWith("-sources.jar") && !n.endsWith("-javadoc.jar") && !n.endsWith("-tests.jar");
        }).toList();
        if (jars.size() != 1) {
            throw new IllegalStateException("expected exactly one bundle jar in " + target + ", found " + jars
                    + ": run the test through failsafe (mvn verify), which runs after package");
        }
        return jars.get(0);
    }

    /**
     * Every bundle {@link #node} installs, in install order: the logging bundles, the node's bundles from the
     * distribution artifact but the Gogo console, and this kit. On the test class path only.
     */
    public static List<NodeBundles.BundleFile> bundles() {
        ClassLoader cl = MidiMeshOptions.class.getClassLoader();
        List<Path> jars = new ArrayList<>();
        jars.add(NodeBundles.classPathRoot(cl, "org/apache/aries/spifly/dynamic/DynamicWeavingActivator.class",
                "the SPI Fly framework extension"));
        jars.add(NodeBundles.classPathRoot(cl, "org/slf4j/LoggerFactory.class", "slf4j-api"));
        jars.add(NodeBundles.classPathRoot(cl, "org/slf4j/simple/SimpleLogger.class", "slf4j-simple"));
        Path distribution = NodeBundles.classPathRoot(cl, DISTRIBUTION_MARKER, "midimesh-distribution");
        jars.addAll(NodeBundles.fromDistribution(distribution, workDir()));
        jars.add(kitBundle());
        // The Gogo console is only for --shell: the launcher installs it without starting it. Pax Exam reports such an
        // installed, never-resolved bundle as an ERROR, and started it would read the test JVM's stdin: left out.
        return NodeBundles.describe(jars).stream()
                .filter(b -> !NodeBundles.CONSOLE_SYMBOLIC_NAME.equals(b.symbolicName())).toList();
    }

    /** This kit's own jar; it must be a jar (a bundle), as Maven resolves it after {@code package}. */
    static Path kitBundle() {
        Path self = NodeBundles.classPathRoot(MidiMeshOptions.class.getClassLoader(),
                MidiMeshOptions.class.getName().replace('.', '/') + ".class", "midimesh-testkit");
        if (!Files.isRegularFile(self)) {
            throw new IllegalStateException("the test kit is loaded from " + self + ", not from its jar; run the"
                    + " tests through failsafe in a build that packages midimesh-testkit (mvn verify)");
        }
        return self;
    }

    /** {@value #WORK_DIR_PROPERTY}, or {@code target/midimesh-testkit} in the working directory. */
    public static Path workDir() {
        String dir = System.getProperty(WORK_DIR_PROPERTY);
        Path p = dir == null || dir.isBlank() ? Path.of(System.getProperty("user.dir"), "target", "midimesh-testkit")
                : Path.of(dir);
        return p.toAbsolutePath().normalize();
    }

    /** A new, empty data dir {@code <workDir>/data/<name>-<random>}, with its {@code etc} and {@code deploy}. */
    public static Path freshDataDir(String name) {
        try {
            Path base = workDir().resolve("data");
            Files.createDirectories(base);
            Path dir = Files.createTempDirectory(base, name.replaceAll("[^A-Za-z0-9._-]", "_") + "-")
                    .toAbsolutePath().normalize();
            Files.createDirectories(dir.resolve("etc"));
            Files.createDirectories(dir.resolve("deploy"));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make a data dir for node " + name + " under " + workDir(), e);
        }
    }

    public static int freeTcpPort() {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(false);
            s.bind(new InetSocketAddress(InetAddress.getByName(LOOPBACK), 0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free TCP port on " + LOOPBACK, e);
        }
    }

    public static int freeUdpPort() {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(LOOPBACK), 0))) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free UDP port on " + LOOPBACK, e);
        }
    }
}
