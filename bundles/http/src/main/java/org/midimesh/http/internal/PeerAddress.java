package org.midimesh.http.internal;

/**
 * A peer address {@code host:port} as the API takes it: a host name, an IPv4 address or a bracketed IPv6 address,
 * and an HTTP port 1..65535. Never resolves names. Immutable.
 */
record PeerAddress(String host, int port) {

    static final int MAX_HOST = 253;

    /** @throws IllegalArgumentException saying what is wrong with {@code text} */
    static PeerAddress parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("address is missing; expected host:port");
        }
        String t = text.trim();
        int colon = t.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("address needs a port: host:port");
        }
        String host = t.substring(0, colon);
        String portText = t.substring(colon + 1);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
            if (host.isEmpty() || !host.contains(":")
                    || !host.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == ':' || c == '.')) {
                throw new IllegalArgumentException("address has an invalid IPv6 host");
            }
        } else if (host.contains(":")) {
            throw new IllegalArgumentException("address: put an IPv6 host in brackets, as [::1]:7474");
        } else if (host.isEmpty()) {
            throw new IllegalArgumentException("address has an empty host");
        } else if (host.length() > MAX_HOST || !host.chars().allMatch(PeerAddress::isHostChar)
                || host.startsWith("-") || host.startsWith(".")) {
            throw new IllegalArgumentException("address has an invalid host name");
        }
        int port = -1;
        if (!portText.isEmpty() && portText.length() <= 5 && portText.chars().allMatch(c -> c >= '0' && c <= '9')) {
            port = Integer.parseInt(portText);
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("address port must be 1..65535");
        }
        return new PeerAddress(host, port);
    }

    private static boolean isHostChar(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
                || c == '_';
    }

    /** {@code host:port}, with brackets around an IPv6 host. */
    static String format(String host, int port) {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    /** An address as Jetty reports it, without the brackets some containers put around IPv6. */
    static String unbracket(String addr) {
        return addr != null && addr.length() > 1 && addr.startsWith("[") && addr.endsWith("]")
                ? addr.substring(1, addr.length() - 1) : addr;
    }

    @Override
    public String toString() {
        return format(host, port);
    }
}
