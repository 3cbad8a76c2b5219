package org.midimesh.node.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Objects;

import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the launcher's command line into ConfigAdmin configuration. The launcher passes each parsed option as a
 * framework property {@code midimesh.config.<attribute>}; this component writes them to the {@link NodeConfig} PID, so
 * the node and everything that needs it start only once the options are in place. Runs once, on the SCR thread that
 * activates it.
 */
@Component(immediate = true, service = {})
public final class CommandLineConfiguration {

    static final String PREFIX = "midimesh.config.";
    static final String FILEINSTALL_FACTORY_PID = "org.apache.felix.fileinstall";
    private static final Logger LOG = LoggerFactory.getLogger(CommandLineConfiguration.class);

    @Activate
    public CommandLineConfiguration(BundleContext context, @Reference ConfigurationAdmin configAdmin)
            throws IOException {
        Dictionary<String, Object> props = fromFrameworkProperties(context::getProperty);
        if (props == null) {
            LOG.info("no command-line configuration (not started by the MidiMesh launcher); using {} as configured",
                    NodeConfig.PID);
            return;
        }
        Configuration c = configAdmin.getConfiguration(NodeConfig.PID, "?");
        if (!sameAs(c.getProperties(), props)) {
            c.update(props);
        }
        java.nio.file.Path dataDir = java.nio.file.Path.of((String) props.get(property("data_dir")));
        watchEtc(configAdmin, dataDir.resolve("etc"), dataDir.resolve("cache").resolve("fileinstall-etc"));
    }

    /**
     * Asks Felix FileInstall (a named factory configuration, so restarts do not add more) to watch
     * {@code <data-dir>/etc} for {@code .cfg} and {@code .config} files and load them into ConfigAdmin, so editing a file
     * applies it. FileInstall does not write back: the component that owns a file writes it itself, atomically (the
     * strategy manager keeps {@code org.midimesh.strategy.cfg}); two writers of one file would race. Its scratch
     * directory is under the data dir: by default each watcher makes a new one in the system's temp dir and leaves it
     * there when the process is killed.
     */
    private static void watchEtc(ConfigurationAdmin configAdmin, java.nio.file.Path etc, java.nio.file.Path scratch)
            throws IOException {
        Hashtable<String, Object> w = new Hashtable<>();
        w.put("felix.fileinstall.dir", etc.toString());
        w.put("felix.fileinstall.tmpdir", scratch.toString());
        w.put("felix.fileinstall.filter", ".*\\.(cfg|config)");
        w.put("felix.fileinstall.poll", 1000L);
        w.put("felix.fileinstall.noInitialDelay", "true");
        w.put("felix.fileinstall.enableConfigSave", "false");
        Configuration watcher = configAdmin.getFactoryConfiguration(FILEINSTALL_FACTORY_PID, "etc", "?");
        if (!sameAs(watcher.getProperties(), w)) {
            watcher.update(w);
        }
    }

    /** Reads the typed attributes of {@link NodeConfig}; null when the launcher did not set them. */
    static Dictionary<String, Object> fromFrameworkProperties(java.util.function.Function<String, String> get) {
        if (get.apply(PREFIX + "data_dir") == null) {
            return null;
        }
        Hashtable<String, Object> d = new Hashtable<>();
        for (String key : List.of("name", "node_id", "data_dir", "bind", "discovery", "strategy", "admin_token",
                "log_level")) {
            String v = get.apply(PREFIX + key);
            if (v != null) {
                d.put(property(key), v);
            }
        }
        for (String key : List.of("http_port", "udp_port", "tcp_port")) {
            String v = get.apply(PREFIX + key);
            if (v != null) {
                d.put(property(key), Integer.valueOf(v));
            }
        }
        String peers = get.apply(PREFIX + "peers");
        List<String> list = new ArrayList<>();
        if (peers != null) {
            for (String p : peers.split(",")) {
                if (!p.isBlank()) {
                    list.add(p.trim());
                }
            }
        }
        d.put("peers", list.toArray(new String[0]));
        return d;
    }

    /** The property name of a {@link NodeConfig} attribute: DS maps {@code _} in a method name to {@code .}. */
    static String property(String attribute) {
        return attribute.replace('_', '.');
    }

    private static boolean sameAs(Dictionary<String, Object> current, Dictionary<String, Object> wanted) {
        if (current == null) {
            return false;
        }
        for (java.util.Enumeration<String> e = wanted.keys(); e.hasMoreElements();) {
            String k = e.nextElement();
            Object a = current.get(k);
            Object b = wanted.get(k);
            if (a instanceof String[] sa && b instanceof String[] sb) {
                if (!java.util.Arrays.equals(sa, sb)) {
                    return false;
                }
            } else if (!Objects.equals(a, b)) {
                return false;
            }
        }
        return true;
    }
}
