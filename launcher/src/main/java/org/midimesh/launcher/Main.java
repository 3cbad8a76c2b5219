package org.midimesh.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.URI;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.util.tracker.ServiceTracker;

/**
 * Entry point of {@code midimesh.jar}. The main thread parses the command line, checks the ports, boots Felix with the
 * bundles embedded under {@code bundles/} in this jar, waits until the node serves, prints the ready line and then
 * waits for the framework to stop. A JVM shutdown hook (SIGTERM, SIGINT) stops the framework, which deactivates the
 * components (the mesh says goodbye to its peers) within the 5 s the interface allows.
 */
public final class Main {

    static final String VERSION = "0.1.0";
    /** The Gogo console: installed always, started only with {@code --shell}, after the ready line. */
    static final String SHELL_BUNDLE = "org.apache.felix.gogo.shell";
    private static final long READY_TIMEOUT_MS = 60_000;
    private static final long STOP_TIMEOUT_MS = 4_000;

    private Main() {
    }

    public static void main(String[] args) {
        int code = run(args, System.getenv(), System.out, System.err);
        System.exit(code);
    }

    static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        CommandLine.Result result = CommandLine.parse(args, env);
        if (result instanceof CommandLine.Help) {
            out.println("MidiMesh " + VERSION + ": a network MIDI server.");
            out.println(CommandLine.USAGE);
            return 0;
        }
        if (result instanceof CommandLine.Version) {
            out.println("midimesh " + VERSION);
            return 0;
        }
        if (result instanceof CommandLine.Invalid invalid) {
            err.println("midimesh: " + invalid.reason());
            err.println(CommandLine.USAGE);
            return 2;
        }
        Options options = ((CommandLine.Run) result).options();
        configureLogging(options.logLevel());
        Options bound;
        try {
            InetAddress bind = InetAddress.getByName(options.bind());
            int http = Ports.tcp(bind, options.httpPort(), "http");
            int udp = Ports.udp(bind, options.udpPort(), "udp");
            int tcp = Ports.tcp(bind, options.tcpPort(), "tcp");
            bound = options.withPorts(http, udp, tcp);
        } catch (Ports.PortException e) {
            err.println("midimesh: " + e.getMessage());
            return 1;
        } catch (IOException e) {
            err.println("midimesh: cannot use bind address " + options.bind() + ": " + e.getMessage());
            return 1;
        }
        Path dataDir = Path.of(bound.dataDir()).toAbsolutePath().normalize();
        try {
            Files.createDirectories(dataDir.resolve("etc"));
            Files.createDirectories(dataDir.resolve("deploy"));
        } catch (IOException e) {
            err.println("midimesh: cannot create data dir " + dataDir + ": " + e);
            return 1;
        }
        try {
            ownerOnly(dataDir.resolve("cache"));
        } catch (IOException e) {
            err.println("midimesh: cannot make " + dataDir.resolve("cache") + " private to its owner: " + e);
            return 1;
        }
        return boot(bound, dataDir, out, err);
    }

    /**
     * Creates {@code dir} if needed and lets only its owner in ({@code rwx------}), on file systems with POSIX
     * permissions. The framework's storage lives there, ConfigAdmin's files among it, and those hold the node's
     * configuration with its admin token: nobody else may read them, whatever the umask made of each file.
     */
    static void ownerOnly(Path dir) throws IOException {
        Files.createDirectories(dir);
        PosixFileAttributeView view = Files.getFileAttributeView(dir, PosixFileAttributeView.class);
        if (view != null) {
            view.setPermissions(PosixFilePermissions.fromString("rwx------"));
        }
    }

    /** slf4j-simple reads these once, when the first logger is made; all log output goes to stderr. */
    static void configureLogging(String level) {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", level);
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
        System.setProperty("org.slf4j.simpleLogger.showShortLogName", "true");
        System.setProperty("org.slf4j.simpleLogger.log.org.eclipse.jetty", "debug".equals(level) ? "info" : "warn");
    }

    /** Everything the launcher gives Felix: the platform settings plus {@link #nodeProperties}. */
    static Map<String, String> frameworkProperties(Options o, Path dataDir) {
        Map<String, String> p = new HashMap<>(nodeProperties(o, dataDir));
        p.put(Constants.FRAMEWORK_STORAGE, dataDir.resolve("cache").resolve("felix").toString());
        p.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        // Logging comes from this class path (slf4j-simple): bundles import org.slf4j from the system bundle.
        String slf4j = "version=\"2.0.17\"";
        p.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, String.join(",", "org.slf4j;" + slf4j,
                "org.slf4j.event;" + slf4j, "org.slf4j.helpers;" + slf4j, "org.slf4j.spi;" + slf4j));
        p.put("felix.log.level", "2");
        // The console (only started with --shell): no login script, no message of the day.
        p.put("gosh.args", "--quiet");
        return p;
    }

    /**
     * The framework properties that configure the node itself: HTTP, hot deploy and every command-line option as
     * {@code midimesh.config.<attribute>} (the node bundle turns those into ConfigAdmin configuration). Public so that
     * the in-framework tests boot the node exactly as the launcher does.
     */
    public static Map<String, String> nodeProperties(Options o, Path dataDir) {
        Map<String, String> p = new HashMap<>();
        p.put("org.osgi.service.http.port", Integer.toString(o.httpPort()));
        p.put("org.apache.felix.http.host", o.bind());
        p.put("org.apache.felix.http.jetty.sendServerHeader", "false");
        p.put("org.apache.felix.http.name", "midimesh");
        // Felix FileInstall watches <data-dir>/deploy: a bundle copied there is installed and started, deleting it
        // uninstalls it. (<data-dir>/etc is watched for .cfg/.config files through a second watcher that the node
        // bundle configures.)
        p.put("felix.fileinstall.dir", dataDir.resolve("deploy").toString());
        p.put("felix.fileinstall.poll", "500");
        p.put("felix.fileinstall.noInitialDelay", "true");
        p.put("felix.fileinstall.filter", ".*\\.jar");
        // Its scratch directory under the data dir: by default it makes a new one in the system's temp dir at every
        // start and leaves it there when the process is killed.
        p.put("felix.fileinstall.tmpdir", dataDir.resolve("cache").resolve("fileinstall-deploy").toString());
        // FileInstall never writes configuration files back: by default every watcher (this one too) writes ConfigAdmin
        // changes into the file a configuration came from, and it raced (non-atomically) with the strategy manager,
        // which keeps <data-dir>/etc/org.midimesh.strategy.cfg itself.
        p.put("felix.fileinstall.enableConfigSave", "false");
        // FileInstall logs to stdout unless told to use java.util.logging (stderr): stdout is for the ready line.
        p.put("felix.fileinstall.log.level", "2");
        p.put("felix.fileinstall.log.default", "jul");
        String c = "midimesh.config.";
        p.put(c + "http_port", Integer.toString(o.httpPort()));
        p.put(c + "udp_port", Integer.toString(o.udpPort()));
        p.put(c + "tcp_port", Integer.toString(o.tcpPort()));
        p.put(c + "bind", o.bind());
        p.put(c + "name", o.name());
        p.put(c + "node_id", o.nodeId());
        p.put(c + "data_dir", dataDir.toString());
        p.put(c + "peers", String.join(",", o.peers()));
        p.put(c + "discovery", o.discovery());
        p.put(c + "strategy", o.strategy());
        p.put(c + "admin_token", o.adminToken());
        p.put(c + "log_level", o.logLevel());
        return p;
    }

    private static int boot(Options options, Path dataDir, PrintStream out, PrintStream err) {
        FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class).findFirst()
                .orElseThrow(() -> new IllegalStateException("no OSGi framework on the class path"));
        Map<String, Object> config = new HashMap<>(frameworkProperties(options, dataDir));
        // Felix's own messages go to stderr through SLF4J; by default it prints them on stdout.
        config.put("felix.log.logger", new FelixLog());
        @SuppressWarnings({"unchecked", "rawtypes"})
        Framework framework = factory.newFramework((Map) config);
        try {
            framework.init();
            installEmbeddedBundles(framework.getBundleContext());
            Thread hook = new Thread(() -> stop(framework), "midimesh-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            framework.start();
            Bundle shell = null;
            for (Bundle b : framework.getBundleContext().getBundles()) {
                if (SHELL_BUNDLE.equals(b.getSymbolicName())) {
                    shell = b;
                } else if (b.getBundleId() != 0 && b.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                    b.start();
                }
            }
            String ready = awaitReady(framework.getBundleContext(), options);
            if (ready == null) {
                err.println("midimesh: the node did not become ready within " + READY_TIMEOUT_MS / 1000
                        + " s; see the log above");
                Runtime.getRuntime().removeShutdownHook(hook);
                stop(framework);
                return 1;
            }
            out.println(ready);
            out.flush();
            if (options.shell() && shell != null) {
                shell.start(); // reads this terminal; its end (or exit) stops the framework, and so the node
            }
            FrameworkEvent event = framework.waitForStop(0);
            return event.getType() == FrameworkEvent.ERROR ? 1 : 0;
        } catch (BundleException | IOException e) {
            err.println("midimesh: cannot start: " + e.getMessage());
            stop(framework);
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop(framework);
            return 1;
        }
    }

    private static void installEmbeddedBundles(BundleContext context) throws IOException, BundleException {
        URL self = Main.class.getProtectionDomain().getCodeSource().getLocation();
        Path jar;
        try {
            jar = Path.of(self.toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IOException("cannot locate midimesh.jar: " + self, e);
        }
        if (!Files.isRegularFile(jar)) {
            throw new IOException("midimesh must run from its jar (java -jar midimesh.jar), not from " + jar);
        }
        List<String> installed = new ArrayList<>();
        try (JarFile jf = new JarFile(jar.toFile())) {
            for (Enumeration<JarEntry> e = jf.entries(); e.hasMoreElements();) {
                JarEntry entry = e.nextElement();
                String n = entry.getName();
                if (n.startsWith("bundles/") && n.endsWith(".jar")) {
                    try (InputStream in = jf.getInputStream(entry)) {
                        context.installBundle("midimesh:" + n, in);
                        installed.add(n);
                    }
                }
            }
        }
        if (installed.isEmpty()) {
            throw new IOException("no bundles inside " + jar);
        }
    }

    /** Waits for the node's ready marker service, then for /health to answer 200; returns the ready line. */
    private static String awaitReady(BundleContext context, Options options) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_TIMEOUT_MS);
        ServiceTracker<Object, Object> tracker;
        try {
            tracker = new ServiceTracker<>(context, context.createFilter("(midimesh.ready=true)"), null);
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        tracker.open(true);
        try {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (tracker.waitForService(Math.max(1, left)) == null) {
                return null;
            }
            ServiceReference<Object> ref = tracker.getServiceReference();
            String host = "0.0.0.0".equals(options.bind()) || "::".equals(options.bind()) ? "127.0.0.1"
                    : options.bind();
            if (!awaitHealth(host, options.httpPort(), deadline)) {
                return null;
            }
            return "midimesh ready name=" + ref.getProperty("midimesh.name") + " uuid="
                    + ref.getProperty("midimesh.uuid") + " http=" + ref.getProperty("midimesh.http") + " udp="
                    + ref.getProperty("midimesh.udp") + " tcp=" + ref.getProperty("midimesh.tcp") + " strategy="
                    + ref.getProperty("midimesh.strategy");
        } finally {
            tracker.close();
        }
    }

    private static boolean awaitHealth(String host, int port, long deadlineNanos) throws InterruptedException {
        URI uri = URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port + "/health");
        while (System.nanoTime() < deadlineNanos) {
            try {
                HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection();
                c.setConnectTimeout(1000);
                c.setReadTimeout(2000);
                int code = c.getResponseCode();
                c.disconnect();
                if (code == 200) {
                    return true;
                }
            } catch (IOException e) {
                // not listening yet
            }
            // The launcher's own start-up poll, not a test: 50 ms between attempts.
            TimeUnit.MILLISECONDS.sleep(50);
        }
        return false;
    }

    private static void stop(Framework framework) {
        try {
            if ((framework.getState() & (Bundle.STARTING | Bundle.ACTIVE)) != 0) {
                framework.stop();
                framework.waitForStop(STOP_TIMEOUT_MS);
            }
        } catch (BundleException e) {
            System.err.println("midimesh: error while stopping: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
