package org.midimesh.api;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * This node's identity and settings, as resolved at start-up from the command line, the data dir and defaults.
 * Registered once the node id is known and the data dir is usable. Thread-safe; every method returns at once.
 */
@ProviderType
public interface LocalNode {

    NodeId id();

    String name();

    String hostname();

    String version();

    /** Address every listener binds to. */
    String bindAddress();

    int httpPort();

    int udpPort();

    int tcpPort();

    /**
     * The strategy given with {@code --strategy} on the command line, which wins over the one kept in the data dir;
     * empty when none was given. The strategy in use is the strategy manager's business
     * ({@code org.midimesh.api.strategy.StrategyControl}).
     */
    Optional<String> strategyOption();

    Path dataDir();

    /** Token that mutating admin endpoints require; empty when none is set (then only loopback clients may mutate). */
    Optional<String> adminToken();

    /** Static peers from the command line, as {@code host:port}. */
    List<String> staticPeers();

    /** {@code mdns} or {@code none}. */
    String discovery();

    Instant startedAt();

    /** This node as a peer sees it, reachable on {@code address}. */
    default NodeInfo toNodeInfo(String address) {
        return new NodeInfo(id(), name(), hostname(), address, httpPort(), udpPort(), tcpPort(), version());
    }
}
