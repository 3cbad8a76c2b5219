package org.midimesh.routing.internal;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.midimesh.api.LocalNode;
import org.midimesh.api.NodeId;

/** LocalNode with a fixed id and data dir. */
final class FakeLocalNode implements LocalNode {

    private final NodeId id;
    private final Path dataDir;

    FakeLocalNode(NodeId id, Path dataDir) {
        this.id = id;
        this.dataDir = dataDir;
    }

    @Override
    public NodeId id() {
        return id;
    }

    @Override
    public String name() {
        return "test-node";
    }

    @Override
    public String hostname() {
        return "localhost";
    }

    @Override
    public String version() {
        return "0.0.0-test";
    }

    @Override
    public String bindAddress() {
        return "127.0.0.1";
    }

    @Override
    public int httpPort() {
        return 7474;
    }

    @Override
    public int udpPort() {
        return 7475;
    }

    @Override
    public int tcpPort() {
        return 7476;
    }

    @Override
    public String defaultStrategy() {
        return "mutex";
    }

    @Override
    public Path dataDir() {
        return dataDir;
    }

    @Override
    public Optional<String> adminToken() {
        return Optional.empty();
    }

    @Override
    public List<String> staticPeers() {
        return List.of();
    }

    @Override
    public String discovery() {
        return "none";
    }

    @Override
    public Instant startedAt() {
        return Instant.EPOCH;
    }
}
