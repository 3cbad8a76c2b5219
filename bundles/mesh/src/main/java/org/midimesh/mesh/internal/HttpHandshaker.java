package org.midimesh.mesh.internal;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Supplier;

import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.Handshaker;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The client side of the handshake: POST our {@link HandshakeMessage} to the peer's /network/handshake and read its
 * reply with Jackson. A 503 answer (the peer is starting or stopping) throws {@link PeerNotReadyException}. Thread-safe (HttpClient and a configured ObjectMapper are); blocks the calling thread for at most
 * the connect timeout plus the request timeout.
 */
final class HttpHandshaker implements Handshaker {

    private final HttpClient client;
    private final ObjectMapper json = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private final Supplier<Handshake> local;
    private final Duration requestTimeout;

    HttpHandshaker(Supplier<Handshake> local, Duration connectTimeout, Duration requestTimeout) {
        this.local = local;
        this.requestTimeout = requestTimeout;
        this.client = HttpClient.newBuilder().connectTimeout(connectTimeout).version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    @Override
    public Handshake handshake(String host, int httpPort) throws IOException {
        String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        URI uri = URI.create("http://" + h + ":" + httpPort + "/network/handshake");
        byte[] body = json.writeValueAsBytes(HandshakeMessage.of(local.get()));
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(requestTimeout)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        HttpResponse<byte[]> response;
        try {
            response = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (response.statusCode() != 200) {
            String message = "peer answered " + response.statusCode() + ": "
                    + new String(response.body(), java.nio.charset.StandardCharsets.UTF_8);
            throw response.statusCode() == 503 ? new PeerNotReadyException(message) : new IOException(message);
        }
        try {
            return json.readValue(response.body(), HandshakeMessage.class).toHandshake(host);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new IOException("invalid handshake reply: " + e.getMessage(), e);
        }
    }
}
