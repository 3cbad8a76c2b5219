package org.midimesh.http.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.midimesh.api.LocalNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.ObjectMapper;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Base of the API servlets: a small table of endpoints (method and path pattern with {@code {name}} segments), 404
 * for unknown paths, 405 with {@code Allow} for wrong methods, HEAD and OPTIONS, the admin check and audit log for
 * mutations, and the error JSON for every failure (500 with a generic message for anything unexpected).
 * <p>Endpoints are added in the subclass constructor and only read afterwards; the servlet container publishes the
 * fully constructed servlet to its request threads. Requests run on Jetty's threads, concurrently.
 */
abstract class ApiServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    /** Admin mutations that passed the access check and succeeded, one INFO line each (conventions 2.2). */
    private static final Logger AUDIT = LoggerFactory.getLogger("midimesh.audit");

    private final Logger log = LoggerFactory.getLogger(getClass());

    /** Configured once; thread-safe afterwards. */
    protected final ObjectMapper mapper = ApiJson.newMapper();

    private final List<Endpoint> endpoints = new ArrayList<>();

    /** Handles one request and returns what to answer. */
    @FunctionalInterface
    interface Handler {
        Reply handle(Exchange exchange) throws IOException;
    }

    /** Handles one request with a JSON body already read and checked for shape. */
    @FunctionalInterface
    interface BodyHandler<T> {
        Reply handle(Exchange exchange, T body) throws IOException;
    }

    /** A successful answer: status and the value to write as JSON (or an {@link ApiResponses.Raw} body as is). */
    record Reply(int status, Object body) {
        static Reply ok(Object body) {
            return new Reply(200, body);
        }
    }

    private record Endpoint(String method, String[] segments, boolean admin, Handler handler) {
    }

    /** The node whose admin token guards mutations; null while it is not available (mutations then get 503). */
    protected abstract LocalNode adminNode();

    protected final void get(String pattern, Handler handler) {
        endpoints.add(new Endpoint("GET", split(pattern), false, handler));
    }

    /** A mutating endpoint with a JSON body: admin-checked unless {@code admin} is false. */
    protected final <T> void withBody(String method, String pattern, boolean admin, Class<T> bodyType,
            BodyHandler<T> handler) {
        endpoints.add(new Endpoint(method, split(pattern), admin, x -> handler.handle(x, x.body(bodyType))));
    }

    /**
     * An admin-checked mutating endpoint whose JSON body may be left out: the handler then gets {@code null}
     * ({@link Exchange#optionalBody}).
     */
    protected final <T> void withOptionalBody(String method, String pattern, Class<T> bodyType,
            BodyHandler<T> handler) {
        endpoints.add(new Endpoint(method, split(pattern), true, x -> handler.handle(x, x.optionalBody(bodyType))));
    }

    /** A mutating endpoint without a body (DELETE); always admin-checked. */
    protected final void delete(String pattern, Handler handler) {
        endpoints.add(new Endpoint("DELETE", split(pattern), true, handler));
    }

    private static String[] split(String pattern) {
        return pattern.substring(1).split("/", -1);
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String method = request.getMethod();
        boolean head = "HEAD".equals(method);
        String path = fullPath(request);
        Endpoint endpoint = null;
        boolean audited = false;
        int status = 500;
        try {
            Map<String, String> params = new HashMap<>();
            Set<String> allowed = new LinkedHashSet<>();
            String wanted = head ? "GET" : method;
            for (Endpoint e : endpoints) {
                Map<String, String> p = match(e.segments, path);
                if (p != null) {
                    allowed.add(e.method);
                    if (endpoint == null && e.method.equals(wanted)) {
                        endpoint = e;
                        params = p;
                    }
                }
            }
            if (allowed.isEmpty()) {
                throw ApiException.notFound("no such endpoint: " + Exchange.clip(path));
            }
            String allow = allowHeader(allowed);
            if ("OPTIONS".equals(method)) {
                response.setHeader("Allow", allow);
                response.setStatus(204);
                status = 204;
                return;
            }
            if (endpoint == null) {
                throw new ApiException(405, method + " is not allowed on " + Exchange.clip(path) + " (allowed: "
                        + allow + ")", Map.of("Allow", allow));
            }
            if (endpoint.admin) {
                LocalNode node = adminNode();
                if (node == null) {
                    throw ApiException.notReady("the local node");
                }
                AdminGuard.check(request, node.adminToken());
                audited = true;
            }
            Reply reply = endpoint.handler.handle(new Exchange(request, mapper, params));
            status = reply.status();
            ApiResponses.write(response, mapper, reply.status(), reply.body(), !head);
        } catch (ApiException e) {
            status = e.status();
            log.debug("{} {} from {}: {} {}", method, path, request.getRemoteAddr(), e.status(), e.getMessage());
            ApiResponses.writeError(response, mapper, e, !head);
        } catch (RuntimeException e) {
            status = 500;
            log.error("{} {} from {} failed", method, path, request.getRemoteAddr(), e);
            ApiResponses.writeError(response, mapper, 500, "internal error; the server log has the details", Map.of(),
                    !head);
        } finally {
            if (audited && status < 300) {
                AUDIT.info("{} {} by {}: {}", method, path, request.getRemoteAddr(), status);
            } else if (audited) {
                AUDIT.debug("{} {} by {} refused: {}", method, path, request.getRemoteAddr(), status);
            }
        }
    }

    /** The path below the context: servlet path plus path info, so patterns name full paths such as /midi/devices. */
    private static String fullPath(HttpServletRequest request) {
        String servletPath = request.getServletPath();
        String info = request.getPathInfo();
        String p = (servletPath == null ? "" : servletPath) + (info == null ? "" : info);
        return p.isEmpty() ? "/" : p;
    }

    /** The path parameters when {@code path} matches, else null; a {@code {name}} segment matches non-empty text. */
    private static Map<String, String> match(String[] segments, String path) {
        if (!path.startsWith("/")) {
            return null;
        }
        String[] parts = path.substring(1).split("/", -1);
        if (parts.length != segments.length) {
            return null;
        }
        Map<String, String> params = new HashMap<>();
        for (int i = 0; i < parts.length; i++) {
            String s = segments[i];
            if (s.startsWith("{") && s.endsWith("}")) {
                if (parts[i].isEmpty()) {
                    return null;
                }
                params.put(s.substring(1, s.length() - 1), parts[i]);
            } else if (!s.equals(parts[i])) {
                return null;
            }
        }
        return params;
    }

    private static String allowHeader(Set<String> methods) {
        List<String> all = new ArrayList<>(methods);
        if (methods.contains("GET")) {
            all.add(all.indexOf("GET") + 1, "HEAD");
        }
        all.add("OPTIONS");
        return String.join(", ", all);
    }

    /** The value of a dynamic reference read once, or 503 naming it. */
    static <S> S require(S service, String what) {
        if (service == null) {
            throw ApiException.notReady(what);
        }
        return service;
    }

    /** {@code Optional} to JSON null. */
    static <T> T orNull(Optional<T> value) {
        return value.orElse(null);
    }
}
