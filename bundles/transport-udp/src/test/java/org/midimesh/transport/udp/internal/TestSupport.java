package org.midimesh.transport.udp.internal;

import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.midimesh.api.LocalNode;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;

/** Builds components for tests without an OSGi framework. */
final class TestSupport {

    private TestSupport() {
    }

    /** A Config instance: the annotation defaults, overridden by {@code values} (keyed by method name). */
    static UdpTransport.Config config(Map<String, Object> values) {
        return (UdpTransport.Config) Proxy.newProxyInstance(UdpTransport.Config.class.getClassLoader(),
                new Class<?>[] {UdpTransport.Config.class}, (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "annotationType":
                            return UdpTransport.Config.class;
                        case "toString":
                            return "Config" + values;
                        case "hashCode":
                            return values.hashCode();
                        case "equals":
                            return proxy == args[0];
                        default:
                            return values.containsKey(method.getName()) ? values.get(method.getName())
                                    : method.getDefaultValue();
                    }
                });
    }

    static UdpTransport.Config defaults() {
        return config(Map.of());
    }

    /** A local node on 127.0.0.1 and the given UDP port (0 for a free one). */
    static LocalNode localNode(NodeId id, int udpPort) {
        return new LocalNode() {
            @Override
            public NodeId id() {
                return id;
            }

            @Override
            public String name() {
                return "test-" + id.toString().substring(0, 8);
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
                return udpPort;
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
            public Path dataDir() {
                return Path.of("target");
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
        };
    }

    /** How a transport on 127.0.0.1 is reached. */
    static NodeInfo peerInfo(NodeId id, int udpPort) {
        return new NodeInfo(id, "peer", "localhost", "127.0.0.1", 7474, udpPort, 7476, "test");
    }
}
