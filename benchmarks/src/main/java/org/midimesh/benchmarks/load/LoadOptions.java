package org.midimesh.benchmarks.load;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The load tool's command line. Immutable. {@link #parse} refuses anything it does not understand with an
 * {@link IllegalArgumentException} whose message is the one line shown to the user.
 *
 * @param rate          messages a second of the steady stream
 * @param seconds       length of the run
 * @param burstRate     messages a second added on top during the burst (0: none)
 * @param burstSeconds  length of the burst, centred in the run
 * @param sysexBytes    size of SysEx messages for a reliable-path run (0: realtime run)
 * @param strategies    the strategies to run, in order ({@code both}: mutex then seda)
 * @param flipEveryMs   flip the default strategy of every node this often during the run (0: never)
 * @param peers         receivers (fan-out)
 * @param json          print one JSON object as the last line
 * @param mode          {@code driver} (messages enter through the load driver's input) or {@code http} (one POST per
 *                      instant into the sender's virtual input)
 * @param chord         messages per POST in http mode
 * @param jar           the midimesh.jar to launch
 * @param sender        URL of a running sending node (with {@code senderData}), or null to launch one
 * @param receivers     URLs of running receiving nodes (with {@code receiverData}), or empty to launch them
 */
record LoadOptions(double rate, double seconds, double burstRate, double burstSeconds, int sysexBytes,
        List<String> strategies, long flipEveryMs, int peers, boolean json, String mode, int chord, Path jar,
        String sender, Path senderData, List<String> receivers, List<Path> receiverData, Path plugin, Path workDir) {

    static final String USAGE = """
            usage: java -jar benchmarks/target/midimesh-load.jar [options]
              --rate N              messages a second (default 1000)
              --seconds N           length of the run (default 10)
              --burst RATE:SECONDS  a burst of RATE messages a second on top, SECONDS long, mid-run
              --sysex-bytes N       SysEx of N bytes on the reliable path (not available yet)
              --strategy S          mutex, seda or both (default: the nodes' own)
              --flip-every MS       flip the default strategy of every node every MS during the run
              --peers N             receivers (default 1)
              --mode driver|http    driver: through the load driver's input (default); http: one POST per instant
              --chord N             messages per POST in http mode (default 1)
              --json                the last stdout line is one JSON object with the results
              --jar PATH            midimesh.jar to launch (default distribution/target/midimesh.jar)
              --plugin PATH         the load driver bundle (default: the one inside this jar)
              --work-dir DIR        where launched nodes keep their data and logs (default: a temp dir)
              --sender URL --sender-data DIR          use this running node as the sender
              --receiver URL --receiver-data DIR      use this running node as a receiver (repeatable)
            """;

    static LoadOptions parse(String[] args) {
        double rate = 1000;
        double seconds = 10;
        double burstRate = 0;
        double burstSeconds = 0;
        int sysex = 0;
        List<String> strategies = new ArrayList<>();
        long flip = 0;
        int peers = 1;
        boolean json = false;
        String mode = "driver";
        int chord = 1;
        Path jar = Path.of("distribution/target/midimesh.jar");
        String sender = null;
        Path senderData = null;
        List<String> receivers = new ArrayList<>();
        List<Path> receiverData = new ArrayList<>();
        Path plugin = null;
        Path workDir = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--rate" -> rate = positive(a, value(args, ++i, a), 1_000_000);
                case "--seconds" -> seconds = positive(a, value(args, ++i, a), 3600);
                case "--burst" -> {
                    String v = value(args, ++i, a);
                    String[] parts = v.split(":", -1);
                    if (parts.length != 2) {
                        throw new IllegalArgumentException("--burst: expected RATE:SECONDS, not \"" + v + "\"");
                    }
                    burstRate = positive("--burst rate", parts[0], 1_000_000);
                    burstSeconds = positive("--burst seconds", parts[1], 3600);
                }
                case "--sysex-bytes" -> sysex = (int) positive(a, value(args, ++i, a), 16 << 20);
                case "--strategy" -> {
                    String v = value(args, ++i, a).toLowerCase(Locale.ROOT);
                    switch (v) {
                        case "both" -> strategies = new ArrayList<>(List.of("mutex", "seda"));
                        case "mutex", "seda" -> strategies = new ArrayList<>(List.of(v));
                        default -> throw new IllegalArgumentException("--strategy: mutex, seda or both, not \"" + v
                                + "\"");
                    }
                }
                case "--flip-every" -> flip = (long) positive(a, value(args, ++i, a), 3_600_000);
                case "--peers" -> peers = (int) positive(a, value(args, ++i, a), 16);
                case "--json" -> json = true;
                case "--mode" -> {
                    mode = value(args, ++i, a);
                    if (!mode.equals("driver") && !mode.equals("http")) {
                        throw new IllegalArgumentException("--mode: driver or http, not \"" + mode + "\"");
                    }
                }
                case "--chord" -> chord = (int) positive(a, value(args, ++i, a), 10_000);
                case "--jar" -> jar = Path.of(value(args, ++i, a));
                case "--plugin" -> plugin = Path.of(value(args, ++i, a));
                case "--work-dir" -> workDir = Path.of(value(args, ++i, a));
                case "--sender" -> sender = value(args, ++i, a);
                case "--sender-data" -> senderData = Path.of(value(args, ++i, a));
                case "--receiver" -> receivers.add(value(args, ++i, a));
                case "--receiver-data" -> receiverData.add(Path.of(value(args, ++i, a)));
                default -> throw new IllegalArgumentException("unknown option \"" + a + "\"");
            }
        }
        if (sysex > 0) {
            throw new IllegalArgumentException("--sysex-bytes: the reliable path does not exist yet (issue 9)");
        }
        if ((sender == null) != (senderData == null)) {
            throw new IllegalArgumentException("--sender and --sender-data go together");
        }
        if (receivers.size() != receiverData.size()) {
            throw new IllegalArgumentException("each --receiver needs its --receiver-data");
        }
        if ((sender == null) != receivers.isEmpty()) {
            throw new IllegalArgumentException("running nodes: give --sender and at least one --receiver, or neither");
        }
        if (!receivers.isEmpty()) {
            peers = receivers.size();
        }
        if (sender == null && !Files.isRegularFile(jar)) {
            throw new IllegalArgumentException("--jar: " + jar + " is not a file (build with ./mvnw -B package"
                    + " -DskipTests, or give --jar)");
        }
        long total = Math.round(rate * seconds) + Math.round(burstRate * burstSeconds);
        if (total > LoadCodec.LIMIT) {
            throw new IllegalArgumentException("a run is at most " + LoadCodec.LIMIT + " messages; --rate "
                    + rate + " for " + seconds + " s (plus the burst) makes " + total);
        }
        if (burstSeconds > seconds) {
            throw new IllegalArgumentException("--burst: the burst (" + burstSeconds + " s) is longer than the run ("
                    + seconds + " s)");
        }
        if (strategies.isEmpty()) {
            strategies.add("");
        }
        return new LoadOptions(rate, seconds, burstRate, burstSeconds, sysex, List.copyOf(strategies), flip, peers,
                json, mode, chord, jar, sender, senderData, List.copyOf(receivers), List.copyOf(receiverData), plugin,
                workDir);
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    private static double positive(String option, String text, double max) {
        double v;
        try {
            v = Double.parseDouble(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": expected a number, not \"" + text + "\"");
        }
        if (!(v > 0) || v > max || Double.isInfinite(v)) {
            throw new IllegalArgumentException(option + ": must be above 0 and at most " + (long) max + ", not "
                    + text);
        }
        return v;
    }
}
