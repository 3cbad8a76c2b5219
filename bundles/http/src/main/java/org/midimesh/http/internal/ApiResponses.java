package org.midimesh.http.internal;

import java.io.IOException;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import jakarta.servlet.http.HttpServletResponse;

/**
 * Writes every response body of the HTTP API: JSON values and the error JSON {@code {"error": "...", "status": N}}.
 * Never writes a stack trace. Stateless; called on Jetty request threads.
 */
final class ApiResponses {

    /** The error body. */
    record ErrorBody(String error, int status) {
    }

    /** A body that is not JSON (the Prometheus text): written as is with its content type. */
    record Raw(String contentType, byte[] bytes) {
    }

    private ApiResponses() {
    }

    /** Writes {@code body} as JSON, or as is when it is {@link Raw}; with {@code withBody} false (HEAD) the headers. */
    static void write(HttpServletResponse response, ObjectMapper mapper, int status, Object body, boolean withBody)
            throws IOException {
        if (body instanceof Raw raw) {
            writeBytes(response, status, raw.contentType(), raw.bytes(), withBody);
        } else {
            writeJson(response, mapper, status, body, withBody);
        }
    }

    /** Writes {@code body} as JSON with {@code status}; with {@code withBody} false (HEAD) only the headers. */
    static void writeJson(HttpServletResponse response, ObjectMapper mapper, int status, Object body, boolean withBody)
            throws IOException {
        byte[] bytes;
        try {
            bytes = mapper.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            // a bug in a response type, not an I/O failure: let the servlet answer 500
            throw new IllegalStateException("cannot write " + body.getClass().getSimpleName() + " as JSON", e);
        }
        writeBytes(response, status, "application/json", bytes, withBody);
    }

    /**
     * Writes {@code bytes} with {@code status}. A {@code contentType} without a charset gets UTF-8 (the API's only
     * encoding); one naming its charset is sent as given.
     */
    private static void writeBytes(HttpServletResponse response, int status, String contentType, byte[] bytes,
            boolean withBody) throws IOException {
        response.setStatus(status);
        response.setContentType(contentType);
        if (!contentType.toLowerCase(java.util.Locale.ROOT).contains("charset=")) {
            response.setCharacterEncoding("UTF-8");
        }
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(bytes.length);
        if (withBody) {
            response.getOutputStream().write(bytes);
        }
    }

    /** Writes the error JSON with {@code status}, {@code message} and any extra headers. */
    static void writeError(HttpServletResponse response, ObjectMapper mapper, int status, String message,
            Map<String, String> headers, boolean withBody) throws IOException {
        if (response.isCommitted()) {
            return;
        }
        response.reset();
        headers.forEach(response::setHeader);
        writeJson(response, mapper, status, new ErrorBody(message, status), withBody);
    }

    static void writeError(HttpServletResponse response, ObjectMapper mapper, ApiException e, boolean withBody)
            throws IOException {
        writeError(response, mapper, e.status(), e.getMessage(), e.headers(), withBody);
    }
}
