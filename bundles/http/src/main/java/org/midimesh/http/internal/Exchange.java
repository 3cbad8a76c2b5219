package org.midimesh.http.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

import org.midimesh.api.NodeId;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import jakarta.servlet.http.HttpServletRequest;

/**
 * One request as an endpoint sees it: path parameters, query parameters and the JSON body, each checked with a clear
 * 4xx on bad input. Confined to the Jetty thread handling the request.
 */
final class Exchange {

    /** Largest accepted request body: 1 MiB. */
    static final int MAX_BODY = 1 << 20;

    private final HttpServletRequest request;
    private final ObjectMapper mapper;
    private final Map<String, String> pathParams;

    Exchange(HttpServletRequest request, ObjectMapper mapper, Map<String, String> pathParams) {
        this.request = request;
        this.mapper = mapper;
        this.pathParams = Map.copyOf(pathParams);
    }

    HttpServletRequest request() {
        return request;
    }

    /** The client's IP address as Jetty saw it. */
    String remoteAddr() {
        return request.getRemoteAddr();
    }

    /** The raw text of the path segment {@code {name}}. */
    String path(String name) {
        String v = pathParams.get(name);
        if (v == null) {
            throw new IllegalStateException("no path parameter " + name);
        }
        return v;
    }

    /** The path segment {@code {name}} as a device id 1..65535; 400 naming the parameter otherwise. */
    int deviceId(String name) {
        String text = path(name);
        int id = -1;
        if (text.length() <= 5 && !text.isEmpty() && text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            id = Integer.parseInt(text);
        }
        if (id < 1 || id > 0xffff) {
            throw ApiException.badRequest(name + " must be a device id 1..65535, not \"" + clip(text) + "\"");
        }
        return id;
    }

    /** The path segment {@code {name}} as a node id (dashed UUID or 32 hex digits); 400 naming it otherwise. */
    NodeId nodeId(String name) {
        String text = path(name);
        try {
            return NodeId.parse(text);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(name + " must be a node id (36-character UUID or 32 hex digits), not \""
                    + clip(text) + "\"");
        }
    }

    /** An optional query parameter as a long in {@code min..max}; {@code dflt} when absent. */
    long queryLong(String name, long dflt, long min, long max) {
        String text = request.getParameter(name);
        if (text == null) {
            return dflt;
        }
        long v;
        try {
            v = text.chars().allMatch(c -> (c >= '0' && c <= '9') || c == '-') ? Long.parseLong(text) : Long.MIN_VALUE;
        } catch (NumberFormatException e) {
            v = Long.MIN_VALUE;
        }
        if (v < min || v > max) {
            throw ApiException.badRequest(name + " must be an integer " + min + ".." + max + ", not \"" + clip(text)
                    + "\"");
        }
        return v;
    }

    /**
     * Reads the JSON body as {@code type}: 415 unless the content type is application/json (UTF-8), 413 over
     * {@link #MAX_BODY} bytes (by Content-Length and while reading), 400 when it is not valid JSON of that shape.
     */
    <T> T body(Class<T> type) {
        checkContentType(request.getContentType());
        byte[] bytes = readBody(request);
        if (bytes.length == 0) {
            throw ApiException.badRequest("request body is empty: expected a JSON object");
        }
        return parse(bytes, type);
    }

    /**
     * As {@link #body}, but an absent body (none sent, or zero bytes) is {@code null} rather than a 400. A body that is
     * there is checked as {@link #body} checks it; a Content-Type, when given, is checked before anything is read.
     */
    <T> T optionalBody(Class<T> type) {
        String contentType = request.getContentType();
        if (contentType != null) {
            checkContentType(contentType);
        }
        byte[] bytes = readBody(request);
        if (bytes.length == 0) {
            return null;
        }
        if (contentType == null) {
            checkContentType(null);
        }
        return parse(bytes, type);
    }

    private <T> T parse(byte[] bytes, Class<T> type) {
        T value;
        try {
            value = mapper.readValue(bytes, type);
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest(ApiJson.describe(e));
        } catch (IOException e) {
            throw ApiException.badRequest("could not read the request body");
        }
        if (value == null) {
            throw ApiException.badRequest("request body must be a JSON object");
        }
        return value;
    }

    static void checkContentType(String contentType) {
        if (contentType == null) {
            throw new ApiException(415, "Content-Type must be application/json");
        }
        String[] parts = contentType.split(";");
        if (!parts[0].trim().equalsIgnoreCase("application/json")) {
            throw new ApiException(415, "Content-Type must be application/json, not " + clip(parts[0].trim()));
        }
        for (String p : Arrays.asList(parts).subList(1, parts.length)) {
            String[] kv = p.trim().split("=", 2);
            if (kv[0].trim().equalsIgnoreCase("charset") && kv.length == 2) {
                String cs = kv[1].trim().replace("\"", "").toLowerCase(Locale.ROOT);
                if (!cs.equals("utf-8") && !cs.equals("utf8")) {
                    throw new ApiException(415, "charset must be UTF-8, not " + clip(cs));
                }
            }
        }
    }

    /** Reads the whole body, never holding more than {@code MAX_BODY + 1} bytes. */
    static byte[] readBody(HttpServletRequest request) {
        long declared = request.getContentLengthLong();
        if (declared > MAX_BODY) {
            throw tooLarge();
        }
        if (declared == 0) {
            return new byte[0];
        }
        byte[] buf = new byte[declared > 0 ? (int) declared + 1 : 8192];
        int n = 0;
        try {
            InputStream in = request.getInputStream();
            while (true) {
                if (n == buf.length) {
                    buf = Arrays.copyOf(buf, Math.min(buf.length * 2, MAX_BODY + 1));
                }
                int r = in.read(buf, n, buf.length - n);
                if (r < 0) {
                    break;
                }
                n += r;
                if (n > MAX_BODY) {
                    throw tooLarge();
                }
            }
        } catch (IOException e) {
            throw ApiException.badRequest("could not read the request body");
        }
        return Arrays.copyOf(buf, n);
    }

    private static ApiException tooLarge() {
        return new ApiException(413, "request body is larger than 1 MiB (" + MAX_BODY + " bytes)");
    }

    /** Client text quoted in a message, cut to a readable length. */
    static String clip(String text) {
        return text.length() <= 64 ? text : text.substring(0, 61) + "...";
    }
}
