package org.midimesh.transport.udp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * This bundle's classes refer only to the JDK (its crypto too), OSGi, SLF4J, the MidiMesh API and themselves: never to
 * another implementation bundle (in the spirit of Felix SCR's PackageIsolationTest). Reads the constant pools of the
 * compiled classes. org.midimesh.common is allowed: bnd copies it into this bundle as a private package.
 */
@Timeout(30)
class PackageIsolationTest {

    private static final List<String> ALLOWED = List.of("java/", "javax/annotation/", "javax/crypto/", "org/osgi/",
            "org/slf4j/", "org/midimesh/api/", "org/midimesh/common/", "org/midimesh/transport/udp/");
    private static final Pattern TYPE_IN_DESCRIPTOR = Pattern.compile("L([A-Za-z_$][\\w$/]*);");

    @Test
    void shouldReferOnlyToTheApiTheJdkOsgiAndSlf4j() throws IOException, URISyntaxException {
        Path classes = Path.of(UdpTransport.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Set<String> offending = new TreeSet<>();
        int checked = 0;
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                checked++;
                for (String type : referencedTypes(f)) {
                    if (ALLOWED.stream().noneMatch(type::startsWith)) {
                        offending.add(classes.relativize(f) + " -> " + type);
                    }
                }
            }
        }
        assertFalse(checked == 0, "no classes found under " + classes);
        assertEquals(Set.of(), offending);
    }

    /** Class names in CONSTANT_Class entries and in field and method descriptors. */
    private static Set<String> referencedTypes(Path classFile) throws IOException {
        Set<String> types = new TreeSet<>();
        try (InputStream in = Files.newInputStream(classFile); DataInputStream d = new DataInputStream(in)) {
            d.readInt(); // magic
            d.readUnsignedShort();
            d.readUnsignedShort();
            int count = d.readUnsignedShort();
            String[] utf8 = new String[count];
            int[] classNameIndex = new int[count];
            for (int i = 1; i < count; i++) {
                int tag = d.readUnsignedByte();
                switch (tag) {
                    case 1 -> utf8[i] = d.readUTF();
                    case 7 -> classNameIndex[i] = d.readUnsignedShort();
                    case 8, 16, 19, 20 -> d.readUnsignedShort();
                    case 15 -> {
                        d.readUnsignedByte();
                        d.readUnsignedShort();
                    }
                    case 3, 4, 9, 10, 11, 12, 17, 18 -> d.readInt();
                    case 5, 6 -> {
                        d.readLong();
                        i++;
                    }
                    default -> throw new IOException(classFile + ": unknown constant pool tag " + tag);
                }
            }
            for (int i = 1; i < count; i++) {
                if (classNameIndex[i] != 0) {
                    String name = utf8[classNameIndex[i]];
                    // Arrays appear as descriptors, e.g. "[Ljava/lang/String;"
                    if (name.startsWith("[")) {
                        addDescriptorTypes(name, types);
                    } else {
                        types.add(name);
                    }
                }
                if (utf8[i] != null && (utf8[i].startsWith("(") || utf8[i].startsWith("L"))) {
                    addDescriptorTypes(utf8[i], types);
                }
            }
        }
        return types;
    }

    private static void addDescriptorTypes(String descriptor, Set<String> types) {
        Matcher m = TYPE_IN_DESCRIPTOR.matcher(descriptor);
        while (m.find()) {
            types.add(m.group(1));
        }
    }
}
