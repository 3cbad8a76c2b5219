package org.midimesh.node.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import org.midimesh.api.LocalNode;
import org.midimesh.api.NodeId;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's identity and settings. Needs its configuration (written by the launcher from the command line) before
 * it exists, so nothing that depends on it starts with defaults. Immutable after activation; thread-safe.
 */
@Component(configurationPid = NodeConfig.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = NodeConfig.class)
public final class NodeComponent implements LocalNode {

    static final String VERSION = "0.1.0";
    private static final Logger LOG = LoggerFactory.getLogger(NodeComponent.class);

    private final NodeId id;
    private final String name;
    private final String hostname;
    private final String bind;
    private final int httpPort;
    private final int udpPort;
    private final int tcpPort;
    private final Optional<String> strategy;
    private final Path dataDir;
    private final Optional<String> adminToken;
    private final List<String> peers;
    private final String discovery;
    private final Instant startedAt = Instant.now();

    @Activate
    public NodeComponent(NodeConfig config) throws IOException {
        this.dataDir = Path.of(config.data_dir()).toAbsolutePath().normalize();
        NodeId fixed = config.node_id().isBlank() ? null : NodeId.parse(config.node_id());
        this.id = NodeIdentityStore.loadOrCreate(dataDir, fixed);
        this.hostname = localHostName();
        this.name = config.name().isBlank() ? hostname : config.name();
        this.bind = config.bind();
        this.httpPort = config.http_port();
        this.udpPort = config.udp_port();
        this.tcpPort = config.tcp_port();
        this.strategy = config.strategy().isBlank() ? Optional.empty() : Optional.of(config.strategy().trim());
        this.adminToken = config.admin_token().isEmpty() ? Optional.empty() : Optional.of(config.admin_token());
        this.peers = List.copyOf(Arrays.asList(config.peers()));
        this.discovery = config.discovery();
        LOG.info("node {} ({}) activated, data dir {}{}", name, id, dataDir,
                strategy.map(s -> ", --strategy " + s).orElse(""));
    }

    static String localHostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "unknown-host";
        }
    }

    @Override
    public NodeId id() {
        return id;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String hostname() {
        return hostname;
    }

    @Override
    public String version() {
        return VERSION;
    }

    @Override
    public String bindAddress() {
        return bind;
    }

    @Override
    public int httpPort() {
        return httpPort;
    }

    @Override
    public int udpPort() {
        return udpPort;
    }

    @Override
    public int tcpPort() {
        return tcpPort;
    }

    @Override
    public Optional<String> strategyOption() {
        return strategy;
    }

    @Override
    public Path dataDir() {
        return dataDir;
    }

    @Override
    public Instant startedAt() {
        return startedAt;
    }

    @Override
    public Optional<String> adminToken() {
        return adminToken;
    }

    @Override
    public List<String> staticPeers() {
        return peers;
    }

    @Override
    public String discovery() {
        return discovery;
    }
}
