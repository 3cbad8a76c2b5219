package org.midimesh.api.test;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.midimesh.api.LocalNode;
import org.midimesh.api.NodeId;

/**
 * A fixed {@link LocalNode} for unit tests of every bundle: bound to 127.0.0.1, no admin token, no static peers,
 * no --strategy, discovery none. Immutable; the {@code with...} methods return changed copies.
 */
public record TestLocalNode(NodeId id, String name, Path dataDir, int httpPort, int udpPort, int tcpPort,
        Optional<String> adminToken, List<String> staticPeers) implements LocalNode {

    public TestLocalNode {
        staticPeers = List.copyOf(staticPeers);
    }

    public static TestLocalNode of(NodeId id, String name, Path dataDir) {
        return new TestLocalNode(id, name, dataDir, 7474, 7475, 7476, Optional.empty(), List.of());
    }

    public static TestLocalNode of(String name, Path dataDir) {
        return of(NodeId.random(), name, dataDir);
    }

    public TestLocalNode withUdpPort(int port) {
        return new TestLocalNode(id, name, dataDir, httpPort, port, tcpPort, adminToken, staticPeers);
    }

    public TestLocalNode withAdminToken(String token) {
        return new TestLocalNode(id, name, dataDir, httpPort, udpPort, tcpPort, Optional.ofNullable(token),
                staticPeers);
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
    public Optional<String> strategyOption() {
        return Optional.empty();
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
