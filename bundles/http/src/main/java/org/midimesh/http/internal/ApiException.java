package org.midimesh.http.internal;

import java.util.Map;

/**
 * A request that ends with an error status and a message for a person. Thrown anywhere while handling a request; the
 * servlet turns it into the error JSON. Immutable.
 */
final class ApiException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int status;
    private final Map<String, String> headers;

    ApiException(int status, String message) {
        this(status, message, Map.of());
    }

    ApiException(int status, String message, Map<String, String> headers) {
        super(message, null, false, false);
        this.status = status;
        this.headers = Map.copyOf(headers);
    }

    int status() {
        return status;
    }

    /** Extra response headers, such as {@code Allow} or {@code WWW-Authenticate}. */
    Map<String, String> headers() {
        return headers;
    }

    static ApiException badRequest(String message) {
        return new ApiException(400, message);
    }

    static ApiException notFound(String message) {
        return new ApiException(404, message);
    }

    static ApiException conflict(String message) {
        return new ApiException(409, message);
    }

    /** 503 for a service the endpoint needs that is not (yet) there. */
    static ApiException notReady(String what) {
        return new ApiException(503, "not ready: " + what + " is not available");
    }
}
