package org.midimesh.http.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text format 0.0.4 for the tests, written from the format's description and
 * independent of {@link PrometheusText}: it parses every line back and fails with the line number on anything invalid
 * (bad names, bad escapes, a family's HELP/TYPE twice or after its samples, interleaved families, a counter without
 * {@code _total}, a summary sample without {@code quantile}, the same series twice, a value Go's ParseFloat would not
 * read, a timestamp, a missing final line feed). It also holds the exposition to two rules of good practice that the
 * format leaves open: every sample of a family carries the same label names (besides a summary's {@code quantile}),
 * so a series is never missing its {@code strategy} or {@code peer}; and counters and a summary's {@code _count} are
 * whole numbers, never negative.
 */
final class PrometheusFormat {

    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "summary", "histogram", "untyped");

    record Sample(String name, Map<String, String> labels, double value) {
    }

    record Family(String name, String help, String type, List<Sample> samples) {

        /** The value of the one sample named {@code sampleName} with exactly these labels. */
        double sampleValue(String sampleName, String... labels) {
            Map<String, String> want = new TreeMap<>();
            for (int i = 0; i < labels.length; i += 2) {
                want.put(labels[i], labels[i + 1]);
            }
            return samples.stream().filter(s -> s.name.equals(sampleName) && s.labels.equals(want)).findFirst()
                    .orElseThrow(() -> new AssertionError("no sample " + sampleName + want + " in " + samples))
                    .value;
        }

        double value(String... labels) {
            return sampleValue(name, labels);
        }
    }

    private PrometheusFormat() {
    }

    /** Parses and checks {@code text}; the families by name, in order. */
    static Map<String, Family> parse(String text) {
        if (text.isEmpty() || !text.endsWith("\n")) {
            throw new AssertionError("the exposition must end with a line feed");
        }
        if (text.indexOf('\r') >= 0) {
            throw new AssertionError("carriage return in the exposition");
        }
        String[] lines = text.substring(0, text.length() - 1).split("\n", -1);
        Map<String, Family> families = new LinkedHashMap<>();
        Set<String> seriesSeen = new HashSet<>();
        Map<String, Set<String>> labelNames = new HashMap<>();
        Family current = null;
        String pendingHelp = null;
        String pendingHelpName = null;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            int no = i + 1;
            try {
                if (line.isEmpty()) {
                    throw new AssertionError("empty line");
                }
                if (line.startsWith("# HELP ")) {
                    String rest = line.substring(7);
                    int sp = rest.indexOf(' ');
                    String name = sp < 0 ? rest : rest.substring(0, sp);
                    checkName(name);
                    if (families.containsKey(name) || name.equals(pendingHelpName)) {
                        throw new AssertionError("second HELP for " + name);
                    }
                    if (pendingHelpName != null) {
                        throw new AssertionError("HELP for " + pendingHelpName + " without TYPE");
                    }
                    pendingHelpName = name;
                    pendingHelp = sp < 0 ? "" : unescape(rest.substring(sp + 1), false);
                    continue;
                }
                if (line.startsWith("# TYPE ")) {
                    String[] p = line.substring(7).split(" ", -1);
                    if (p.length != 2 || !TYPES.contains(p[1])) {
                        throw new AssertionError("malformed TYPE line");
                    }
                    if (!p[0].equals(pendingHelpName)) {
                        throw new AssertionError("TYPE " + p[0] + " not right after its HELP (we always write both)");
                    }
                    if (families.containsKey(p[0])) {
                        throw new AssertionError("second TYPE for " + p[0]);
                    }
                    if (p[1].equals("counter") && !p[0].endsWith("_total")) {
                        throw new AssertionError("counter " + p[0] + " does not end in _total");
                    }
                    current = new Family(p[0], pendingHelp, p[1], new ArrayList<>());
                    families.put(p[0], current);
                    pendingHelpName = null;
                    continue;
                }
                if (line.startsWith("#")) {
                    throw new AssertionError("unexpected comment line");
                }
                if (pendingHelpName != null) {
                    throw new AssertionError("sample after HELP without TYPE");
                }
                Sample s = sample(line);
                if (current == null) {
                    throw new AssertionError("sample before any TYPE");
                }
                boolean summary = current.type.equals("summary");
                boolean base = s.name.equals(current.name);
                boolean part = summary && (s.name.equals(current.name + "_count")
                        || s.name.equals(current.name + "_sum"));
                if (!base && !part) {
                    throw new AssertionError("sample " + s.name + " outside its family (current: " + current.name
                            + ")");
                }
                if (summary && base != s.labels.containsKey("quantile")) {
                    throw new AssertionError(base ? "summary quantile sample without quantile label"
                            : "quantile label on " + s.name);
                }
                if (!summary && s.labels.containsKey("quantile")) {
                    throw new AssertionError("quantile label on a " + current.type);
                }
                if (current.type.equals("counter") && !(s.value >= 0)) {
                    throw new AssertionError("negative counter value");
                }
                if ((current.type.equals("counter") || s.name.equals(current.name + "_count"))
                        && !(s.value >= 0 && s.value == Math.rint(s.value))) {
                    throw new AssertionError("a count must be a whole number >= 0, not " + s.value);
                }
                Set<String> names = new TreeSet<>(s.labels.keySet());
                names.remove("quantile");
                Set<String> first = labelNames.putIfAbsent(current.name, names);
                if (first != null && !first.equals(names)) {
                    throw new AssertionError("labels " + names + " differ from the family's first sample " + first);
                }
                if (!seriesSeen.add(s.name + new TreeMap<>(s.labels))) {
                    throw new AssertionError("series written twice");
                }
                current.samples.add(s);
            } catch (AssertionError e) {
                throw new AssertionError("line " + no + " \"" + line + "\": " + e.getMessage(), e);
            }
        }
        if (pendingHelpName != null) {
            throw new AssertionError("HELP for " + pendingHelpName + " without TYPE at the end");
        }
        return families;
    }

    private static void checkName(String name) {
        if (!METRIC_NAME.matcher(name).matches()) {
            throw new AssertionError("invalid metric name " + name);
        }
    }

    private static Sample sample(String line) {
        int i = 0;
        while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
            i++;
        }
        String name = line.substring(0, i);
        checkName(name);
        Map<String, String> labels = new TreeMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i++;
            while (line.charAt(i) != '}') {
                int eq = line.indexOf('=', i);
                if (eq < 0) {
                    throw new AssertionError("label without =");
                }
                String label = line.substring(i, eq);
                if (!LABEL_NAME.matcher(label).matches() || label.startsWith("__")) {
                    throw new AssertionError("invalid label name " + label);
                }
                if (line.charAt(eq + 1) != '"') {
                    throw new AssertionError("label value not quoted");
                }
                StringBuilder raw = new StringBuilder();
                int j = eq + 2;
                while (true) {
                    char c = line.charAt(j);
                    if (c == '"') {
                        break;
                    }
                    if (c == '\\') {
                        raw.append(c);
                        j++;
                        c = line.charAt(j);
                    }
                    raw.append(c);
                    j++;
                }
                if (labels.put(label, unescape(raw.toString(), true)) != null) {
                    throw new AssertionError("label " + label + " twice");
                }
                i = j + 1;
                if (line.charAt(i) == ',') {
                    i++;
                } else if (line.charAt(i) != '}') {
                    throw new AssertionError("expected , or } after a label");
                }
            }
            i++;
        }
        if (i >= line.length() || line.charAt(i) != ' ') {
            throw new AssertionError("expected one space before the value");
        }
        String rest = line.substring(i + 1);
        if (rest.contains(" ")) {
            throw new AssertionError("extra field (a timestamp?) after the value");
        }
        return new Sample(name, labels, value(rest));
    }

    private static double value(String text) {
        switch (text) {
            case "NaN":
                return Double.NaN;
            case "+Inf":
                return Double.POSITIVE_INFINITY;
            case "-Inf":
                return Double.NEGATIVE_INFINITY;
            default:
                if (!NUMBER.matcher(text).matches()) {
                    throw new AssertionError("not a number Go would parse: " + text);
                }
                return Double.parseDouble(text);
        }
    }

    /** Undoes the format's escapes; only those it defines are accepted. */
    static String unescape(String s, boolean labelValue) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                if (labelValue && c == '"') {
                    throw new AssertionError("unescaped quote in a label value");
                }
                sb.append(c);
                continue;
            }
            if (i + 1 >= s.length()) {
                throw new AssertionError("dangling backslash");
            }
            char n = s.charAt(++i);
            switch (n) {
                case '\\' -> sb.append('\\');
                case 'n' -> sb.append('\n');
                case '"' -> {
                    if (!labelValue) {
                        throw new AssertionError("\\\" is not an escape in HELP");
                    }
                    sb.append('"');
                }
                default -> throw new AssertionError("unknown escape \\" + n);
            }
        }
        return sb.toString();
    }
}
