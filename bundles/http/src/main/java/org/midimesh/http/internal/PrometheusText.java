package org.midimesh.http.internal;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Writes the Prometheus text exposition format, version 0.0.4: per metric family one {@code # HELP} and one
 * {@code # TYPE} line, then its samples, all lines of a family together, {@code \n} line ends, no timestamps.
 * <p>It refuses what would make the output invalid or misleading, with an {@link IllegalArgumentException} or
 * {@link IllegalStateException} (a programming error, never client input): invalid metric or label names, a family
 * named twice (also through a summary's {@code _count}/{@code _sum}), a counter not ending in {@code _total} (or
 * another type ending in it), a sample outside its family, the same series twice, reserved labels ({@code quantile}
 * outside a summary's quantile samples, {@code le}, names starting with {@code __}). Label values and HELP text are
 * escaped as the format says: backslash, double quote (label values only) and line feed.
 * <p>Not thread-safe: one instance per response, confined to the request thread.
 */
final class PrometheusText {

    /** The Content-Type of this format. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");

    /** The metric types this writer produces. */
    enum Type {
        COUNTER, GAUGE, SUMMARY;

        String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final StringBuilder out = new StringBuilder(4096);
    /** Every sample name taken by a family so far (a summary takes three). */
    private final Set<String> names = new HashSet<>();
    /** Series (sample name and sorted labels) of the current family. */
    private final Set<String> series = new HashSet<>();
    private String family;
    private Type type;

    /**
     * Starts a family: writes its HELP and TYPE lines. Its samples follow through {@link #sample}.
     *
     * @param help one line for a person; backslashes and line feeds are escaped
     */
    PrometheusText family(String name, Type type, String help) {
        checkMetricName(name);
        if (type == Type.COUNTER && !name.endsWith("_total")) {
            throw new IllegalArgumentException("counter " + name + " must end in _total");
        }
        if (type != Type.COUNTER && name.endsWith("_total")) {
            throw new IllegalArgumentException(type.wireName() + " " + name + " must not end in _total");
        }
        if (type == Type.SUMMARY && (name.endsWith("_count") || name.endsWith("_sum") || name.endsWith("_bucket"))) {
            throw new IllegalArgumentException("summary " + name + " must not end in _count, _sum or _bucket");
        }
        Set<String> taken = type == Type.SUMMARY ? Set.of(name, name + "_count", name + "_sum") : Set.of(name);
        for (String n : taken) {
            // a family x_count next to a summary x would be read as the summary's count
            if (names.contains(n) || names.contains(summaryBase(n))) {
                throw new IllegalStateException("metric family " + name + " is written twice or collides with "
                        + "another family");
            }
        }
        names.addAll(taken);
        family = name;
        this.type = type;
        series.clear();
        out.append("# HELP ").append(name).append(' ').append(escapeHelp(help)).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type.wireName()).append('\n');
        return this;
    }

    /** A sample of the current family, named as the family; {@code labels} are name, value, name, value, ... */
    PrometheusText sample(long value, String... labels) {
        return write("", Long.toString(value), labels);
    }

    /** A sample of the current family, named as the family; {@code labels} are name, value, name, value, ... */
    PrometheusText sample(double value, String... labels) {
        return write("", formatDouble(value), labels);
    }

    /** A summary's {@code _count} sample as an integer. */
    PrometheusText summaryCount(long value, String... labels) {
        if (type != Type.SUMMARY) {
            throw new IllegalStateException("_count belongs to a summary, not to " + family);
        }
        return write("_count", Long.toString(value), labels);
    }

    private PrometheusText write(String suffix, String value, String[] labels) {
        if (family == null) {
            throw new IllegalStateException("a sample before the first family");
        }
        if (labels.length % 2 != 0) {
            throw new IllegalArgumentException("labels must be name, value pairs");
        }
        Map<String, String> byName = new HashMap<>();
        for (int i = 0; i < labels.length; i += 2) {
            String label = labels[i];
            if (label == null || !LABEL_NAME.matcher(label).matches() || label.startsWith("__")) {
                throw new IllegalArgumentException("invalid label name " + label + " on " + family);
            }
            if (labels[i + 1] == null) {
                throw new IllegalArgumentException("label " + label + " of " + family + " has no value");
            }
            if (byName.put(label, labels[i + 1]) != null) {
                throw new IllegalArgumentException("label " + label + " twice on " + family);
            }
        }
        boolean quantileSample = type == Type.SUMMARY && suffix.isEmpty();
        if (quantileSample != byName.containsKey("quantile")) {
            throw new IllegalArgumentException(quantileSample ? "summary " + family + " needs a quantile label"
                    : "quantile is reserved for summary quantiles (" + family + suffix + ")");
        }
        if (byName.containsKey("le")) {
            throw new IllegalArgumentException("le is reserved for histograms (" + family + ")");
        }
        String name = family + suffix;
        if (!series.add(name + new TreeMap<>(byName))) {
            throw new IllegalStateException("series " + name + new TreeMap<>(byName) + " written twice");
        }
        out.append(name);
        if (labels.length > 0) {
            out.append('{');
            for (int i = 0; i < labels.length; i += 2) {
                if (i > 0) {
                    out.append(',');
                }
                out.append(labels[i]).append("=\"").append(escapeLabelValue(labels[i + 1])).append('"');
            }
            out.append('}');
        }
        out.append(' ').append(value).append('\n');
        return this;
    }

    /** The text written so far. */
    @Override
    public String toString() {
        return out.toString();
    }

    byte[] bytes() {
        return toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void checkMetricName(String name) {
        if (name == null || !METRIC_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid metric name " + name);
        }
    }

    private static String summaryBase(String name) {
        if (name.endsWith("_count")) {
            return name.substring(0, name.length() - "_count".length());
        }
        if (name.endsWith("_sum")) {
            return name.substring(0, name.length() - "_sum".length());
        }
        return "";
    }

    /**
     * Label value escaping of the format: {@code \} as {@code \\}, {@code "} as {@code \"}, line feed as {@code \n}.
     */
    static String escapeLabelValue(String value) {
        return escape(value, true);
    }

    /** HELP escaping of the format: {@code \} as {@code \\}, line feed as {@code \n}. */
    static String escapeHelp(String help) {
        return escape(help, false);
    }

    private static String escape(String s, boolean quote) {
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String rep = switch (c) {
                case '\\' -> "\\\\";
                case '\n' -> "\\n";
                case '"' -> quote ? "\\\"" : null;
                default -> null;
            };
            if (rep != null && sb == null) {
                sb = new StringBuilder(s.length() + 8).append(s, 0, i);
            }
            if (sb != null) {
                if (rep != null) {
                    sb.append(rep);
                } else {
                    sb.append(c);
                }
            }
        }
        return sb == null ? s : sb.toString();
    }

    /** Go's ParseFloat reads these: {@code NaN}, {@code +Inf}, {@code -Inf}, integers as such, else Java's form. */
    static String formatDouble(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "+Inf" : "-Inf";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v);
    }
}
