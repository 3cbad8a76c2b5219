package org.midimesh.driver.virtual.internal;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.midimesh.api.LocalNode;
import org.midimesh.api.NodeId;

/** A fixed LocalNode for tests. */
record TestNode(NodeId id, String name, Path dataDir) implements LocalNode {

    TestNode(String name, Path dataDir) {
        this(NodeId.random(), name, dataDir);
    }

    @Override
    public String hostname() {
        return "localhost";
    }

    @Override
    public String version() {
        return "test";
    }

    @Override
    public String bindAddress() {
        return "127.0.0.1";
    }

    @Override
    public int httpPort() {
        return 0;
    }

    @Override
    public int udpPort() {
        return 0;
    }

    @Override
    public int tcpPort() {
        return 0;
    }

    @Override
    public String defaultStrategy() {
        return "mutex";
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
