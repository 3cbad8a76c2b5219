package org.midimesh.transport.udp.internal;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The test vectors of docs/protocol.md section 9, copied verbatim (ProtocolDocTest keeps the two identical). Change
 * both together.
 */
final class Vectors {

    private Vectors() {
    }

    static final String DATA_NOTE_ON = """
            # vector: data-note-on
            4d 4d                                            # magic "MM"
            01                                               # version 1
            01                                               # type 1 DATA
            55 0e 84 00 e2 9b 41 d4 a7 16 44 66 55 44 00 00  # sender A
            66 0f 95 11 f3 9c 52 e5 b8 27 55 77 66 55 11 11  # destination B
            00 00 00 07                                      # sequence 7
            01 02 03 04 05 06 07 08                          # timestamp 0x0102030405060708 us
            00 1b                                            # payload length 27
            00 02                                            # destination device 2
            55 0e 84 00 e2 9b 41 d4 a7 16 44 66 55 44 00 00  # source node A
            00 01                                            # source device 1
            00                                               # hops 0
            01                                               # 1 message
            00 03                                            # message 0: 3 bytes
            90 3c 64                                         # Note On ch 1, key 60, velocity 100
            """;

    static final String HEARTBEAT = """
            # vector: heartbeat
            4d 4d 01                                         # magic, version 1
            02                                               # type 2 HEARTBEAT
            55 0e 84 00 e2 9b 41 d4 a7 16 44 66 55 44 00 00  # sender A
            66 0f 95 11 f3 9c 52 e5 b8 27 55 77 66 55 11 11  # destination B
            00 00 00 03                                      # sequence 3
            01 02 03 04 05 06 07 08                          # timestamp 0x0102030405060708 us
            00 00                                            # payload length 0
            """;

    static final String HEARTBEAT_REPLY = """
            # vector: heartbeat-reply
            4d 4d 01                                         # magic, version 1
            03                                               # type 3 HEARTBEAT_REPLY
            66 0f 95 11 f3 9c 52 e5 b8 27 55 77 66 55 11 11  # sender B
            55 0e 84 00 e2 9b 41 d4 a7 16 44 66 55 44 00 00  # destination A
            00 00 00 09                                      # sequence 9
            01 02 03 04 05 0a 0b 0c                          # timestamp 0x01020304050a0b0c us
            00 08                                            # payload length 8
            01 02 03 04 05 06 07 08                          # echoed heartbeat timestamp
            """;

    static final String GOODBYE = """
            # vector: goodbye
            4d 4d 01                                         # magic, version 1
            06                                               # type 6 GOODBYE
            55 0e 84 00 e2 9b 41 d4 a7 16 44 66 55 44 00 00  # sender A
            66 0f 95 11 f3 9c 52 e5 b8 27 55 77 66 55 11 11  # destination B
            00 00 00 04                                      # sequence 4
            01 02 03 04 05 07 00 00                          # timestamp 0x0102030405070000 us
            00 00                                            # payload length 0
            """;

    static final String MALFORMED_VERSION_2 = """
            # vector: malformed-version-2
            4d 4d 02                                         # magic, version 2
            02                                               # type 2 HEARTBEAT
            55 0e 84 00 e2 9b 41 d4 a7 16 44 66 55 44 00 00  # sender A
            66 0f 95 11 f3 9c 52 e5 b8 27 55 77 66 55 11 11  # destination B
            00 00 00 03                                      # sequence 3
            01 02 03 04 05 06 07 08                          # timestamp
            00 00                                            # payload length 0
            """;

    static final String MALFORMED_BAD_MIDI = """
            # vector: malformed-bad-midi
            4d 4d 01 01                                      # magic, version 1, type 1 DATA
            55 0e 84 00 e2 9b 41 d4 a7 16 44 66 55 44 00 00  # sender A
            66 0f 95 11 f3 9c 52 e5 b8 27 55 77 66 55 11 11  # destination B
            00 00 00 07                                      # sequence 7
            01 02 03 04 05 06 07 08                          # timestamp
            00 1b                                            # payload length 27
            00 02                                            # destination device 2
            55 0e 84 00 e2 9b 41 d4 a7 16 44 66 55 44 00 00  # source node A
            00 01 00 01                                      # source device 1, hops 0, 1 message
            00 03 90 3c ff                                   # 3 bytes: 90 3c ff, data byte above 7f
            """;

    static final String MALFORMED_LENGTH_MISMATCH = """
            # vector: malformed-length-mismatch
            4d 4d 01 02                                      # magic, version 1, type 2 HEARTBEAT
            55 0e 84 00 e2 9b 41 d4 a7 16 44 66 55 44 00 00  # sender A
            66 0f 95 11 f3 9c 52 e5 b8 27 55 77 66 55 11 11  # destination B
            00 00 00 03                                      # sequence 3
            01 02 03 04 05 06 07 08                          # timestamp
            00 00                                            # payload length 0
            00                                               # 1 byte too many
            """;

    /** Every vector by its name (the {@code # vector:} line), in the order of the document. */
    static Map<String, String> all() {
        Map<String, String> m = new LinkedHashMap<>();
        for (String v : new String[] {DATA_NOTE_ON, HEARTBEAT, HEARTBEAT_REPLY, GOODBYE, MALFORMED_VERSION_2,
                MALFORMED_BAD_MIDI, MALFORMED_LENGTH_MISMATCH}) {
            m.put(name(v), v);
        }
        return m;
    }

    static String name(String vector) {
        String first = vector.lines().findFirst().orElseThrow();
        if (!first.startsWith("# vector: ")) {
            throw new IllegalArgumentException("a vector starts with '# vector: <name>', not: " + first);
        }
        return first.substring("# vector: ".length()).trim();
    }
}
