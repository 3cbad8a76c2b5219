package org.midimesh.itests.osgi;

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
import java.util.Comparator;
import java.util.List;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;

import org.midimesh.launcher.Main;
import org.midimesh.launcher.Options;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.options.UrlProvisionOption;

/**
 * The Pax Exam configuration of a MidiMesh node inside Felix, set up the way {@code launcher/Main} boots the real one:
 * every bundle that {@code itests/pom.xml} staged into the directory named by the system property
 * {@value #BUNDLES_PROPERTY}, plus the framework properties {@code org.osgi.service.http.port},
 * {@code org.apache.felix.http.host} and {@code midimesh.config.<attribute>} that the node bundle's
 * CommandLineConfiguration turns into the ConfigAdmin PID {@code org.midimesh.node}.
 * <p>Following {@code shared/reference/stack.md}: Pax Exam's own Pax Logging stays; slf4j-api, slf4j-simple and the SPI
 * Fly framework extension are staged bundles (installed first, so slf4j-simple is there before anything logs);
 * no start levels; reactor bundles by {@code file:} URL. Also used inside the probe to find the staged bundles.
 */
final class MidiMeshOsgiOptions {

    static final String BUNDLES_PROPERTY = "itest.bundles";
    static final String CONFIG = "midimesh.config.";
    static final String HTTP_PORT = "org.osgi.service.http.port";
    static final String LOOPBACK = "127.0.0.1";

    private MidiMeshOsgiOptions() {
    }

    /** Free loopback ports, a fresh data dir, discovery off, strategy mutex, and every staged bundle. */
    static Option[] node(String name) {
        return node(name, "mutex");
    }

    /** As {@link #node(String)}, with {@code strategy} as the node's default connection strategy. */
    static Option[] node(String name, String strategy) {
        int http = freeTcpPort();
        int tcp = freeTcpPort();
        while (tcp == http) {
            tcp = freeTcpPort();
        }
        int udp = freeUdpPort();
        Path dataDir;
        try {
            Path base = stagedDir().getParent().resolve("osgi-data");
            Files.createDirectories(base);
            dataDir = Files.createTempDirectory(base, name + "-").toAbsolutePath().normalize();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make a data dir for the node", e);
        }
        List<Option> options = new ArrayList<>();
        options.add(cleanCaches(true));
        options.add(junitBundles());
        // Pax Logging is Pax Exam's; without this it prints thousands of SPI Fly DEBUG lines.
        options.add(systemProperty("org.ops4j.pax.logging.DefaultServiceLog.level").value("WARN"));
        // slf4j-simple (the provider our bundles log through) reads these when it makes its first logger.
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
        Options node = new Options(http, udp, tcp, LOOPBACK, "itest-" + name, "", dataDir.toString(), List.of(),
                "none", strategy, "", "info", false);
        Main.nodeProperties(node, dataDir).forEach((k, v) -> options.add(frameworkProperty(k).value(v)));

        for (Path jar : stagedBundles()) {
            UrlProvisionOption b = bundle(location(jar));
            options.add(isFragment(jar) ? b.noStart() : b);
        }
        return options.toArray(new Option[0]);
    }

    /** The staging directory; fails clearly when the test runs outside failsafe. */
    static Path stagedDir() {
        String dir = System.getProperty(BUNDLES_PROPERTY);
        if (dir == null || dir.isBlank()) {
            throw new IllegalStateException("system property " + BUNDLES_PROPERTY
                    + " is not set: run the Pax Exam tests through failsafe (mvn -pl itests verify)");
        }
        Path p = Path.of(dir).toAbsolutePath().normalize();
        if (!Files.isDirectory(p)) {
            throw new IllegalStateException(BUNDLES_PROPERTY + "=" + p + " is not a directory (pre-integration-test"
                    + " stages the bundles there)");
        }
        return p;
    }

    /** The staged jars, logging first (SPI Fly, slf4j-api, slf4j-simple), then by file name. */
    static List<Path> stagedBundles() {
        try (Stream<Path> s = Files.list(stagedDir())) {
            List<Path> jars = new ArrayList<>(s.filter(p -> p.getFileName().toString().endsWith(".jar")).toList());
            jars.sort(Comparator.comparingInt(MidiMeshOsgiOptions::installRank)
                    .thenComparing(p -> p.getFileName().toString()));
            if (jars.isEmpty()) {
                throw new IllegalStateException("no bundles staged in " + stagedDir());
            }
            return jars;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int installRank(Path jar) {
        String n = jar.getFileName().toString();
        if (n.startsWith("org.apache.aries.spifly")) {
            return 0;
        }
        if (n.startsWith("slf4j-api")) {
            return 1;
        }
        if (n.startsWith("slf4j-simple")) {
            return 2;
        }
        return 3;
    }

    static String location(Path jar) {
        return jar.toUri().toString();
    }

    static boolean isFragment(Path jar) {
        try (JarFile jf = new JarFile(jar.toFile())) {
            Manifest m = jf.getManifest();
            return m != null && m.getMainAttributes().getValue("Fragment-Host") != null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + jar, e);
        }
    }

    static int freeTcpPort() {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(false);
            s.bind(new InetSocketAddress(InetAddress.getByName(LOOPBACK), 0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free TCP port on " + LOOPBACK, e);
        }
    }

    static int freeUdpPort() {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(LOOPBACK), 0))) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free UDP port on " + LOOPBACK, e);
        }
    }
}
