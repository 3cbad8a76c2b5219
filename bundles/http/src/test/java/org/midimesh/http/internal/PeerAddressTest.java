package org.midimesh.http.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PeerAddressTest {

    @Test
    void shouldParseNamesIpv4AndBracketedIpv6() {
        assertEquals(new PeerAddress("beta.local", 7474), PeerAddress.parse("beta.local:7474"));
        assertEquals(new PeerAddress("10.0.0.2", 1), PeerAddress.parse(" 10.0.0.2:1 "));
        assertEquals(new PeerAddress("::1", 65535), PeerAddress.parse("[::1]:65535"));
        assertEquals("[::1]:65535", PeerAddress.parse("[::1]:65535").toString());
    }

    @Test
    void shouldRejectWhatIsNotHostColonPort() {
        for (String bad : new String[] {"host", "host:", ":1", "host:0", "host:70000", "host:+1", "::1:2", "[x]:1",
            "ho st:1", "-host:1", "a/b:1"}) {
            assertThrows(IllegalArgumentException.class, () -> PeerAddress.parse(bad), bad);
        }
    }
}
