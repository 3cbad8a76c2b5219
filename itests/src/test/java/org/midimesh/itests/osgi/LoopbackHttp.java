package org.midimesh.itests.osgi;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A small JSON client for the node's HTTP API on 127.0.0.1 (a loopback client, so mutating requests are allowed
 * without a token). Every call has connect and read timeouts.
 */
final class LoopbackHttp {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CONNECT_TIMEOUT_MS = 2_000;
    private static final int READ_TIMEOUT_MS = 10_000;

    /** An answer: status, Content-Type and body text. */
    record Response(int status, String contentType, String body) {

        JsonNode json() throws IOException {
            return JSON.readTree(body);
        }

        @Override
        public String toString() {
            return status + " " + contentType + " " + body;
        }
    }

    private final int port;

    LoopbackHttp(int port) {
        this.port = port;
    }

    Response get(String path) throws IOException {
        return call("GET", path, null);
    }

    Response post(String path, Object body) throws IOException {
        return call("POST", path, JSON.writeValueAsString(body));
    }

    private Response call(String method, String path, String body) throws IOException {
        URI uri = URI.create("http://" + MidiMeshOsgiOptions.LOOPBACK + ":" + port + path);
        HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection();
        try {
            c.setConnectTimeout(CONNECT_TIMEOUT_MS);
            c.setReadTimeout(READ_TIMEOUT_MS);
            c.setRequestMethod(method);
            c.setRequestProperty("Accept", "application/json");
            if (body != null) {
                c.setDoOutput(true);
                c.setRequestProperty("Content-Type", "application/json");
                try (OutputStream out = c.getOutputStream()) {
                    out.write(body.getBytes(StandardCharsets.UTF_8));
                }
            }
            int status = c.getResponseCode();
            InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
            String text = "";
            if (in != null) {
                try (in) {
                    text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
            }
            return new Response(status, c.getContentType(), text);
        } finally {
            c.disconnect();
        }
    }
}
