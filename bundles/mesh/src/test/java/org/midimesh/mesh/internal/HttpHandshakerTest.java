package org.midimesh.mesh.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.connection.Handshake;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;

/** The client side of the handshake against a stand-in peer on loopback. */
@Timeout(10)
class HttpHandshakerTest {

    // The stand-in's answer: set by the test thread before the handshake, read by the server's thread that answers it
    // (the request itself orders them too; volatile makes that plain). Each is read on its own.
    volatile int status = 200;
    volatile String body = "";
    final HttpServer peer;
    final HttpHandshaker handshaker = new HttpHandshaker(
            () -> Fixtures.versioned(Fixtures.LOCAL, "127.0.0.1", 7474, "ours", 0), Duration.ofSeconds(2),
            Duration.ofSeconds(5));

    HttpHandshakerTest() throws IOException {
        peer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        peer.createContext("/network/handshake", x -> {
            x.getRequestBody().readAllBytes();
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(status, b.length);
            x.getResponseBody().write(b);
            x.close();
        });
        peer.start();
    }

    @AfterEach
    void stop() {
        peer.stop(0);
    }

    int port() {
        return peer.getAddress().getPort();
    }

    @Test
    void shouldReadThePeersHandshakeWithItsDeviceListVersion() throws Exception {
        Handshake theirs = Fixtures.versioned(Fixtures.PEER, "ignored", 7011, "theirs", 4, "peer Out");
        body = new ObjectMapper().writeValueAsString(HandshakeMessage.of(theirs));
        Handshake got = handshaker.handshake("127.0.0.1", port());
        assertEquals(theirs.devicesVersion(), got.devicesVersion());
        assertEquals("127.0.0.1", got.node().address(), "the address it dialled");
    }

    @Test
    void shouldSayWhenThePeerIsNotReady() {
        status = 503;
        body = "{\"error\":\"the /network API is not ready yet\",\"status\":503}";
        PeerNotReadyException e = assertThrows(PeerNotReadyException.class,
                () -> handshaker.handshake("127.0.0.1", port()));
        assertEquals("peer answered 503: " + body, e.getMessage());
    }

    @Test
    void shouldFailOnAnyOtherErrorAsBefore() {
        status = 400;
        body = "{\"error\":\"node_id: that is this node's own id\",\"status\":400}";
        IOException e = assertThrows(IOException.class, () -> handshaker.handshake("127.0.0.1", port()));
        assertFalse(e instanceof PeerNotReadyException, "a 400 will not go away by itself");
    }
}
