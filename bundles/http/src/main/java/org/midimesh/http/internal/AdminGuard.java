package org.midimesh.http.internal;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import jakarta.servlet.http.HttpServletRequest;

/**
 * Admin access for mutating endpoints (interface.md, "Admin access"): with a token set, {@code Authorization: Bearer
 * <token>} is required (401 without, 403 wrong); without one, only loopback clients pass (403 otherwise). Stateless.
 */
final class AdminGuard {

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    private AdminGuard() {
    }

    /** @throws ApiException 401 or 403 when the request may not mutate */
    static void check(HttpServletRequest request, Optional<String> adminToken) {
        if (adminToken.isPresent() && !adminToken.get().isEmpty()) {
            String header = request.getHeader("Authorization");
            String prefix = "bearer ";
            if (header == null || header.length() <= prefix.length()
                    || !header.substring(0, prefix.length()).toLowerCase(Locale.ROOT).equals(prefix)) {
                throw new ApiException(401, "admin token required: send Authorization: Bearer <token>",
                        Map.of("WWW-Authenticate", "Bearer realm=\"midimesh\""));
            }
            if (!constantTimeEquals(header.substring(prefix.length()).trim(), adminToken.get())) {
                throw new ApiException(403, "admin token is wrong");
            }
            return;
        }
        if (!isLoopback(request.getRemoteAddr())) {
            throw new ApiException(403,
                    "no admin token is set, so changes are accepted only from loopback clients");
        }
    }

    /** Compares SHA-256 digests, so neither the content nor the length of the token leaks through timing. */
    static boolean constantTimeEquals(String given, String expected) {
        try {
            MessageDigest a = MessageDigest.getInstance("SHA-256");
            MessageDigest b = MessageDigest.getInstance("SHA-256");
            return MessageDigest.isEqual(a.digest(given.getBytes(StandardCharsets.UTF_8)),
                    b.digest(expected.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from the JDK", e);
        }
    }

    /** True for 127.0.0.0/8, ::1 and ::ffff:127.x; never resolves names (only IP literals are parsed). */
    static boolean isLoopback(String remoteAddr) {
        if (remoteAddr == null || remoteAddr.isEmpty()) {
            return false;
        }
        String a = remoteAddr;
        if (a.startsWith("[") && a.endsWith("]")) {
            a = a.substring(1, a.length() - 1);
        }
        int scope = a.indexOf('%');
        if (scope >= 0) {
            a = a.substring(0, scope);
        }
        boolean ipv4 = IPV4.matcher(a).matches();
        boolean ipv6 = a.indexOf(':') >= 0
                && a.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == '.' || c == ':');
        if (!ipv4 && !ipv6) {
            return false; // not an IP literal: getByName would ask DNS
        }
        try {
            return InetAddress.getByName(a).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
