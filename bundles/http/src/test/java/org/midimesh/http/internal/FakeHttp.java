package org.midimesh.http.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Proxy;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Hand-made request and response fakes (dynamic proxies answering only what the servlets use; anything else throws,
 * so a test notices a new dependency). Splits the path as Jetty does for a {@code /area/*} pattern.
 */
final class FakeHttp {

    private static final ObjectMapper PLAIN = new ObjectMapper();

    private final String method;
    private final String path;
    private final Map<String, String> params = new HashMap<>();
    private final Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    private String remoteAddr = "127.0.0.1";
    private InputStream body = InputStream.nullInputStream();
    private long contentLength = -1;
    /** Bytes the servlet read from the body. */
    long bytesRead;

    private FakeHttp(String method, String pathAndQuery) {
        this.method = method;
        int q = pathAndQuery.indexOf('?');
        this.path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
        if (q >= 0) {
            for (String kv : pathAndQuery.substring(q + 1).split("&")) {
                String[] p = kv.split("=", 2);
                params.putIfAbsent(URLDecoder.decode(p[0], StandardCharsets.UTF_8),
                        p.length > 1 ? URLDecoder.decode(p[1], StandardCharsets.UTF_8) : "");
            }
        }
    }

    static FakeHttp get(String path) {
        return new FakeHttp("GET", path);
    }

    static FakeHttp delete(String path) {
        return new FakeHttp("DELETE", path);
    }

    static FakeHttp post(String path, String json) {
        return new FakeHttp("POST", path).json(json);
    }

    static FakeHttp put(String path, String json) {
        return new FakeHttp("PUT", path).json(json);
    }

    static FakeHttp method(String method, String path) {
        return new FakeHttp(method, path);
    }

    /** A JSON body with Content-Type application/json and Content-Length. */
    FakeHttp json(String json) {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        return body(bytes, bytes.length).header("Content-Type", "application/json");
    }

    FakeHttp body(byte[] bytes, long declaredLength) {
        this.body = new ByteArrayInputStream(bytes);
        this.contentLength = declaredLength;
        return this;
    }

    /** A body of {@code size} bytes of spaces, streamed without a Content-Length (chunked). */
    FakeHttp streamedBody(long size) {
        this.contentLength = -1;
        this.body = new InputStream() {
            long left = size;

            @Override
            public int read() {
                if (left <= 0) {
                    return -1;
                }
                left--;
                return ' ';
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left <= 0) {
                    return -1;
                }
                int n = (int) Math.min(len, Math.min(left, 4096));
                Arrays.fill(b, off, off + n, (byte) ' ');
                left -= n;
                return n;
            }
        };
        return header("Content-Type", "application/json");
    }

    FakeHttp header(String name, String value) {
        if (value == null) {
            headers.remove(name);
        } else {
            headers.put(name, value);
        }
        return this;
    }

    FakeHttp remote(String addr) {
        this.remoteAddr = addr;
        return this;
    }

    FakeHttp bearer(String token) {
        return header("Authorization", "Bearer " + token);
    }

    Result call(ApiServlet servlet) throws IOException {
        Res res = new Res();
        try {
            // the container's entry point, as Jetty calls it
            ((jakarta.servlet.Servlet) servlet).service(request(), response(res));
        } catch (jakarta.servlet.ServletException e) {
            throw new AssertionError(e);
        }
        return new Result(res.status, res.headers, res.out.toByteArray());
    }

    private HttpServletRequest request() {
        String[] parts = path.substring(1).split("/", 2);
        String servletPath = parts.length == 2 ? "/" + parts[0] : path;
        String pathInfo = parts.length == 2 ? "/" + parts[1] : null;
        ServletInputStream in = new ServletInputStream() {
            @Override
            public int read() throws IOException {
                int b = body.read();
                if (b >= 0) {
                    bytesRead++;
                }
                return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = body.read(b, off, len);
                if (n > 0) {
                    bytesRead += n;
                }
                return n;
            }

            @Override
            public boolean isFinished() {
                return false;
            }

            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void setReadListener(ReadListener l) {
                throw new UnsupportedOperationException();
            }
        };
        return (HttpServletRequest) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {HttpServletRequest.class}, (proxy, m, args) -> switch (m.getName()) {
                    case "getMethod" -> method;
                    case "getServletPath" -> servletPath;
                    case "getPathInfo" -> pathInfo;
                    case "getRequestURI" -> path;
                    case "getRemoteAddr" -> remoteAddr;
                    case "getLocalPort" -> 7474;
                    case "getHeader" -> headers.get((String) args[0]);
                    case "getContentType" -> headers.get("Content-Type");
                    case "getContentLengthLong" -> contentLength;
                    case "getContentLength" -> (int) contentLength;
                    case "getInputStream" -> in;
                    case "getParameter" -> params.get((String) args[0]);
                    case "toString" -> method + " " + path;
                    default -> throw new UnsupportedOperationException("fake request: " + m.getName());
                });
    }

    private static final class Res {
        int status = 200;
        final Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean committed;
    }

    private static HttpServletResponse response(Res res) {
        ServletOutputStream out = new ServletOutputStream() {
            @Override
            public void write(int b) {
                res.committed = true;
                res.out.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                res.committed = true;
                res.out.write(b, off, len);
            }

            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void setWriteListener(WriteListener l) {
                throw new UnsupportedOperationException();
            }
        };
        return (HttpServletResponse) Proxy.newProxyInstance(FakeHttp.class.getClassLoader(),
                new Class<?>[] {HttpServletResponse.class}, (proxy, m, args) -> {
                    switch (m.getName()) {
                        case "setStatus" -> res.status = (Integer) args[0];
                        case "getStatus" -> {
                            return res.status;
                        }
                        case "setHeader" -> res.headers.put((String) args[0], (String) args[1]);
                        case "setContentType" -> res.headers.put("Content-Type", (String) args[0]);
                        case "setCharacterEncoding" -> res.headers.put("X-Charset", (String) args[0]);
                        case "setContentLength" -> res.headers.put("Content-Length", String.valueOf(args[0]));
                        case "isCommitted" -> {
                            return res.committed;
                        }
                        case "reset" -> {
                            if (res.committed) {
                                throw new IllegalStateException("committed");
                            }
                            res.status = 200;
                            res.headers.clear();
                            res.out.reset();
                        }
                        case "getOutputStream" -> {
                            return out;
                        }
                        default -> throw new UnsupportedOperationException("fake response: " + m.getName());
                    }
                    return null;
                });
    }

    /** What the servlet answered. */
    record Result(int status, Map<String, String> headers, byte[] body) {

        String header(String name) {
            return headers.get(name);
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        JsonNode json() {
            try {
                return PLAIN.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + text(), e);
            }
        }

        /** The error message of an error answer, lower-cased for contains-checks. */
        String error() {
            JsonNode j = json();
            if (j.get("status").asInt() != status) {
                throw new AssertionError("status field " + j.get("status") + " differs from " + status);
            }
            return j.get("error").asText().toLowerCase(Locale.ROOT);
        }

        @Override
        public String toString() {
            return status + " " + text();
        }
    }
}
