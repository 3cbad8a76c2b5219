package org.midimesh.http.internal;

import java.util.List;

import org.midimesh.api.LocalNode;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletName;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The default servlet ({@code /}): every path no other servlet takes gets the error JSON instead of the container's
 * HTML page. 404 for unknown paths; 503 under an API area whose servlet is not registered (yet), as while starting.
 * Requests run on Jetty threads.
 */
@Component(service = Servlet.class, property = NodeServlet.API_PROPERTY + "=fallback")
@HttpWhiteboardServletPattern("/")
@HttpWhiteboardServletName("midimesh-fallback")
public class FallbackServlet extends ApiServlet {

    private static final long serialVersionUID = 1L;

    /** Areas served by other servlets of this bundle under a {@code /area/*} pattern (which also takes /area). */
    private static final List<String> AREAS = List.of("/midi", "/network", "/routing", "/node", "/debug", "/strategy");

    /** Single paths served by other servlets of this bundle (exact patterns: /health/x is not theirs). */
    private static final List<String> PATHS = List.of("/health", "/metrics");

    @Override
    protected LocalNode adminNode() {
        return null;
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws java.io.IOException {
        String path = (request.getServletPath() == null ? "" : request.getServletPath())
                + (request.getPathInfo() == null ? "" : request.getPathInfo());
        boolean withBody = !"HEAD".equals(request.getMethod());
        for (String area : AREAS) {
            if (path.equals(area) || path.startsWith(area + "/")) {
                ApiResponses.writeError(response, mapper, ApiException.notReady("the " + area + " API"), withBody);
                return;
            }
        }
        if (PATHS.contains(path)) {
            ApiResponses.writeError(response, mapper, ApiException.notReady("the " + path + " API"), withBody);
            return;
        }
        ApiResponses.writeError(response, mapper, ApiException.notFound("no such endpoint: " + Exchange.clip(path)),
                withBody);
    }
}
