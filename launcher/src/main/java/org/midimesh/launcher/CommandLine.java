package org.midimesh.launcher;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Parses and checks the command line of interface.md section 1. Pure: no I/O, so nothing starts before the options
 * are known to be valid.
 */
public final class CommandLine {

    /** What the command line asks for. */
    public sealed interface Result permits Run, Help, Version, Invalid {
    }

    public record Run(Options options) implements Result {
    }

    public record Help() implements Result {
    }

    public record Version() implements Result {
    }

    /** A bad option or value: {@code reason} is one line for a person. */
    public record Invalid(String reason) implements Result {
    }

    public static final String USAGE = String.join("\n",
            "usage: java -jar midimesh.jar [options]",
            "  --http-port N          HTTP API port; 0 picks a free one (default 7474)",
            "  --udp-port N           realtime MIDI datagram port; 0 picks a free one (default 7475)",
            "  --tcp-port N           reliable channel port; 0 picks a free one (default 7476)",
            "  --bind ADDR            address all listeners bind to (default 0.0.0.0)",
            "  --name NAME            human name of this node (default: host name)",
            "  --node-id UUID         fixed node identity (default: generated once, kept in the data dir)",
            "  --data-dir DIR         node id, routes, configuration, plugins (default ./midimesh-data)",
            "  --peer HOST:HTTPPORT   static peer to connect to; repeatable",
            "  --discovery mdns|none  how peers are found besides --peer (default mdns)",
            "  --strategy NAME        default connection strategy, mutex or seda; wins over the one kept in",
            "                         <data-dir>/etc (default: that one, else mutex)",
            "  --admin-token TOKEN    token for mutating admin endpoints; prefer env MIDIMESH_ADMIN_TOKEN,",
            "                         since other users of this machine can read a command line (ps)",
            "  --log-level LEVEL      error, warn, info or debug (default info)",
            "  --shell                open the Gogo shell on this terminal once the node is ready (bundle",
            "                         commands and midimesh:*; end of input or exit stops the node)",
            "  --help, --version      print and exit");

    private static final Pattern UUID_TEXT = Pattern.compile(
            "(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}");
    private static final Pattern STRATEGY = Pattern.compile("[a-z][a-z0-9-]{0,31}");
    private static final List<String> VALUED = List.of("--http-port", "--udp-port", "--tcp-port", "--bind", "--name",
            "--node-id", "--data-dir", "--peer", "--discovery", "--strategy", "--admin-token", "--log-level");

    private CommandLine() {
    }

    public static Result parse(String[] args, Map<String, String> env) {
        int http = 7474;
        int udp = 7475;
        int tcp = 7476;
        String bind = "0.0.0.0";
        String name = "";
        String nodeId = "";
        String dataDir = "midimesh-data";
        List<String> peers = new ArrayList<>();
        String discovery = "mdns";
        String strategy = ""; // not given: the strategy manager's settings file decides
        String token = env.getOrDefault("MIDIMESH_ADMIN_TOKEN", "");
        String logLevel = "info";
        boolean shell = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                value = arg.substring(eq + 1);
                arg = arg.substring(0, eq);
            }
            if (arg.equals("--help") || arg.equals("-h")) {
                return new Help();
            }
            if (arg.equals("--version")) {
                return new Version();
            }
            if (arg.equals("--shell")) {
                if (value != null) {
                    return new Invalid("--shell takes no value");
                }
                shell = true;
                continue;
            }
            if (!VALUED.contains(arg)) {
                return new Invalid("unknown option: " + args[i]);
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    return new Invalid(arg + " needs a value");
                }
                value = args[++i];
            }
            switch (arg) {
                case "--http-port", "--udp-port", "--tcp-port" -> {
                    int port = parsePort(value);
                    if (port < 0) {
                        return new Invalid(arg + " must be a port number 0..65535, not '" + value + "'");
                    }
                    if (arg.equals("--http-port")) {
                        http = port;
                    } else if (arg.equals("--udp-port")) {
                        udp = port;
                    } else {
                        tcp = port;
                    }
                }
                case "--bind" -> {
                    if (!isAddress(value)) {
                        return new Invalid("--bind must be an IP address or host name, not '" + value + "'");
                    }
                    bind = value;
                }
                case "--name" -> {
                    if (value.isBlank() || value.length() > 64 || value.chars().anyMatch(Character::isISOControl)) {
                        return new Invalid("--name must be 1..64 printable characters");
                    }
                    name = value;
                }
                case "--node-id" -> {
                    if (!UUID_TEXT.matcher(value).matches() || value.replace("-", "").matches("0+")) {
                        return new Invalid("--node-id must be a UUID (36 characters, or 32 hex digits), not '"
                                + value + "'");
                    }
                    nodeId = value;
                }
                case "--data-dir" -> {
                    if (value.isBlank()) {
                        return new Invalid("--data-dir must not be empty");
                    }
                    dataDir = value;
                }
                case "--peer" -> {
                    String problem = checkPeer(value);
                    if (problem != null) {
                        return new Invalid("--peer " + problem);
                    }
                    peers.add(value);
                }
                case "--discovery" -> {
                    if (!value.equals("mdns") && !value.equals("none")) {
                        return new Invalid("--discovery must be mdns or none, not '" + value + "'");
                    }
                    discovery = value;
                }
                case "--strategy" -> {
                    if (!STRATEGY.matcher(value).matches()) {
                        return new Invalid("--strategy must be a strategy name such as mutex or seda, not '"
                                + value + "'");
                    }
                    strategy = value;
                }
                case "--admin-token" -> {
                    if (value.isBlank()) {
                        return new Invalid("--admin-token must not be empty");
                    }
                    token = value;
                }
                case "--log-level" -> {
                    if (!List.of("error", "warn", "info", "debug").contains(value)) {
                        return new Invalid("--log-level must be error, warn, info or debug, not '" + value + "'");
                    }
                    logLevel = value;
                }
                default -> throw new IllegalStateException(arg);
            }
        }
        if (http != 0 && http == tcp) {
            return new Invalid("--http-port and --tcp-port must differ (both " + http + ")");
        }
        return new Run(new Options(http, udp, tcp, bind, name, nodeId, dataDir, peers, discovery, strategy, token,
                logLevel, shell));
    }

    static int parsePort(String s) {
        if (!s.matches("[0-9]{1,5}")) {
            return -1;
        }
        int p = Integer.parseInt(s);
        return p <= 65535 ? p : -1;
    }

    /** Returns why {@code host:port} is not a peer address, or null when it is one. */
    static String checkPeer(String value) {
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            return "must be HOST:HTTPPORT, not '" + value + "'";
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = parsePort(value.substring(colon + 1));
        if (port < 1) {
            return "port must be 1..65535 in '" + value + "'";
        }
        if (!isAddress(host)) {
            return "host is not valid in '" + value + "'";
        }
        return null;
    }

    /** An IP literal or a syntactically valid host name; no DNS lookup here. */
    static boolean isAddress(String s) {
        if (s.isEmpty() || s.length() > 253) {
            return false;
        }
        if (s.matches("[0-9.]+")) {
            String[] parts = s.split("\\.", -1);
            if (parts.length != 4) {
                return false;
            }
            for (String p : parts) {
                if (p.isEmpty() || p.length() > 3 || Integer.parseInt(p) > 255) {
                    return false;
                }
            }
            return true;
        }
        if (s.contains(":")) {
            return s.matches("[0-9a-fA-F:.]+");
        }
        return s.matches("(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");
    }
}
