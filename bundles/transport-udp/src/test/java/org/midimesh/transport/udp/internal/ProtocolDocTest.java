package org.midimesh.transport.udp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** docs/protocol.md and {@link Vectors} carry the same test vectors, character for character. */
@Timeout(30)
class ProtocolDocTest {

    private static final Pattern HEX_BLOCK = Pattern.compile("```hex\\n(.*?)```", Pattern.DOTALL);

    static Path protocolDoc() {
        // Surefire runs in the module directory, bundles/transport-udp.
        Path doc = Path.of("").toAbsolutePath().resolve("../../docs/protocol.md").normalize();
        assertTrue(Files.isRegularFile(doc), "docs/protocol.md not found at " + doc);
        return doc;
    }

    @Test
    void shouldCarryExactlyTheVectorsOfTheUnitTests() throws IOException {
        String doc = Files.readString(protocolDoc(), StandardCharsets.UTF_8);
        Map<String, String> inDoc = new LinkedHashMap<>();
        Matcher m = HEX_BLOCK.matcher(doc);
        while (m.find()) {
            String block = m.group(1);
            inDoc.put(Vectors.name(block), normalise(block));
        }
        Map<String, String> inTest = new LinkedHashMap<>();
        Vectors.all().forEach((name, text) -> inTest.put(name, normalise(text)));
        assertEquals(inTest.keySet().stream().toList(), inDoc.keySet().stream().toList(),
                "vector names and order in docs/protocol.md");
        inTest.forEach((name, text) -> assertEquals(text, inDoc.get(name), "vector " + name));
    }

    private static String normalise(String block) {
        return block.lines().map(String::stripTrailing).collect(Collectors.joining("\n")).strip();
    }
}
