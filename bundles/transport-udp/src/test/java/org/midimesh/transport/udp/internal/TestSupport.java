package org.midimesh.transport.udp.internal;

import java.nio.file.Path;
import java.util.Map;

import org.midimesh.api.LocalNode;
import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.test.Configs;
import org.midimesh.api.test.TestLocalNode;

/** Builds components for tests without an OSGi framework. */
final class TestSupport {

    private TestSupport() {
    }

    /** A Config instance: the annotation defaults, overridden by {@code values} (keyed by method name). */
    static UdpTransport.Config config(Map<String, Object> values) {
        return Configs.of(UdpTransport.Config.class, values);
    }

    static UdpTransport.Config defaults() {
        return config(Map.of());
    }

    /** A local node on 127.0.0.1 and the given UDP port (0 for a free one). */
    static LocalNode localNode(NodeId id, int udpPort) {
        return TestLocalNode.of(id, "test-" + id.toString().substring(0, 8), Path.of("target")).withUdpPort(udpPort);
    }

    /** How a transport on 127.0.0.1 is reached. */
    static NodeInfo peerInfo(NodeId id, int udpPort) {
        return new NodeInfo(id, "peer", "localhost", "127.0.0.1", 7474, udpPort, 7476, "test");
    }
}
