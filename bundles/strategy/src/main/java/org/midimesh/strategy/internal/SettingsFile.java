package org.midimesh.strategy.internal;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import org.midimesh.common.AtomicFiles;

/**
 * {@code <data-dir>/etc/org.midimesh.strategy.cfg}: the strategy settings as a Felix {@code .cfg} file (Java
 * properties), which FileInstall also loads into ConfigAdmin, so editing the file applies it. Written whole and
 * atomically (a crash leaves the old file or the new one), keys in a fixed order with a header, and only when the
 * content changes. Stateless apart from its path; the manager calls it from one thread at a time.
 */
final class SettingsFile {

    static final String FILE_NAME = StrategySettings.PID + ".cfg";

    private static final String HEADER = String.join("\n",
            "# MidiMesh connection strategies (PID " + StrategySettings.PID + ").",
            "# Written by the node whenever the settings change (PUT /strategy, the shell, the canary policy);",
            "# edit it while the node runs to apply a change. Keys are documented in docs/operations.md.",
            "");

    private final Path file;

    SettingsFile(Path etcDir) {
        this.file = etcDir.resolve(FILE_NAME);
    }

    Path path() {
        return file;
    }

    /** The properties in the file; empty when there is no file. */
    Optional<Map<String, String>> read() throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        return Optional.of(parse(new StringReader(text)));
    }

    static Map<String, String> parse(Reader r) throws IOException {
        Properties p = new Properties();
        p.load(r);
        Map<String, String> out = new LinkedHashMap<>();
        for (String k : p.stringPropertyNames()) {
            out.put(k, p.getProperty(k));
        }
        return out;
    }

    /** Writes {@code settings} unless the file already holds exactly that text. Returns whether it wrote. */
    boolean write(StrategySettings settings) throws IOException {
        String text = render(settings);
        try {
            if (Files.readString(file, StandardCharsets.UTF_8).equals(text)) {
                return false;
            }
        } catch (NoSuchFileException e) {
            // first write
        }
        AtomicFiles.write(file, text.getBytes(StandardCharsets.UTF_8));
        return true;
    }

    /** The file's text for {@code settings}: the header, then every key in {@link StrategySettings#KEYS} order. */
    static String render(StrategySettings settings) {
        Map<String, String> props = settings.toProperties();
        StringBuilder out = new StringBuilder(HEADER);
        for (String key : StrategySettings.KEYS) {
            out.append(line(key, props.get(key))).append('\n');
        }
        return out.toString();
    }

    /**
     * One {@code key = value} line as {@link Properties#load} reads it back: backslashes doubled, a leading space and
     * every character outside printable ASCII escaped. Keys are plain ([a-z.]); values are names, numbers, and the
     * pins' {@code uuid=name} pairs, whose {@code =} needs no escape after the separator.
     */
    static String line(String key, String value) {
        StringBuilder b = new StringBuilder(key).append(" = ");
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            if (ch == '\\') {
                b.append("\\\\");
            } else if (ch == ' ' && i == 0) {
                b.append("\\ ");
            } else if (ch < 0x20 || ch > 0x7e) {
                b.append(String.format("\\u%04x", (int) ch));
            } else {
                b.append(ch);
            }
        }
        return b.toString();
    }
}
