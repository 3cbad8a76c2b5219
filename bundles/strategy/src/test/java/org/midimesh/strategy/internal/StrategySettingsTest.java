package org.midimesh.strategy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.NodeId;
import org.midimesh.api.strategy.PolicyMode;

@Timeout(10)
class StrategySettingsTest {

    static final NodeId PEER = NodeId.parse("660f9511-f39c-52e5-b827-557766551111");

    @Test
    void shouldStartFromTheDefaults() {
        StrategySettings s = StrategySettings.parse(Map.of());
        assertEquals(StrategySettings.DEFAULTS, s);
        assertEquals("mutex", s.defaultStrategy());
        assertEquals(PolicyMode.MANUAL, s.policy().mode());
        assertEquals(60_000, s.policy().windowMs());
        assertEquals("seda", s.policy().candidate());
    }

    @Test
    void shouldReadEveryKeyAsTextOrTyped() {
        Map<String, Object> p = new HashMap<>();
        p.put("default", "seda");
        p.put("canary.strategy", "mutex");
        p.put("canary.percent", 25);
        p.put("canary.steps", new String[] {"5", "25", "50", "100"});
        p.put("pins", PEER + "=seda");
        p.put("policy.mode", "auto");
        p.put("policy.window.ms", "2000");
        p.put("policy.holddown.ms", 5000L);
        p.put("policy.promote.contention.percent", "7.5");
        p.put("policy.rollback.p99.regression.percent", 20);
        p.put("policy.rollback.errors", "3");
        p.put("policy.min.queries", "10");
        p.put("swap.threads", "8");
        p.put("felix.fileinstall.filename", "file:/x/org.midimesh.strategy.cfg"); // not ours: ignored
        StrategySettings s = StrategySettings.parse(p);
        assertEquals("seda", s.defaultStrategy());
        assertEquals("mutex", s.canary().strategy());
        assertEquals(25, s.canary().percent());
        assertEquals(List.of(5, 25, 50, 100), s.canary().steps());
        assertEquals(Map.of(PEER, "seda"), s.pins());
        assertEquals(PolicyMode.AUTO, s.policy().mode());
        assertEquals(2000, s.policy().windowMs());
        assertEquals(5000, s.policy().holdDownMs());
        assertEquals(7.5, s.policy().promoteContentionPercent());
        assertEquals(20.0, s.policy().rollbackP99RegressionPercent());
        assertEquals(3, s.policy().rollbackErrors());
        assertEquals(10, s.policy().minQueries());
        assertEquals(8, s.swapThreads());
    }

    @Test
    void shouldRoundTripThroughItsProperties() throws Exception {
        Map<String, Object> p = new HashMap<>();
        p.put("default", "seda");
        p.put("canary.strategy", "mutex");
        p.put("canary.percent", "10");
        p.put("canary.steps", "10,50");
        p.put("pins", PEER + "=mutex");
        p.put("policy.promote.contention.percent", "2.5");
        StrategySettings s = StrategySettings.parse(p);
        assertEquals(s, StrategySettings.parse(s.toProperties()));
        String text = SettingsFile.render(s);
        assertEquals(s, StrategySettings.parse(SettingsFile.parse(new StringReader(text))));
        assertTrue(text.contains("default = seda\n"), text);
        assertTrue(text.startsWith("# MidiMesh connection strategies"), text);
    }

    @Test
    void shouldRefuseBadValuesNamingTheirKey() {
        assertRefused("default", Map.of("default", "Mutex!"));
        assertRefused("canary.percent", Map.of("canary.percent", "150"));
        assertRefused("canary.percent", Map.of("canary.percent", "ten"));
        assertRefused("canary.strategy", Map.of("canary.percent", "10"));
        assertRefused("canary.steps", Map.of("canary.strategy", "seda", "canary.steps", "50,25"));
        assertRefused("canary.steps", Map.of("canary.steps", "a,b"));
        assertRefused("pins", Map.of("pins", "not-a-uuid=seda"));
        assertRefused("pins", Map.of("pins", PEER + "=SEDA"));
        assertRefused("pins", Map.of("pins", "seda"));
        assertRefused("policy.mode", Map.of("policy.mode", "sometimes"));
        assertRefused("policy.window.ms", Map.of("policy.window.ms", "5"));
        assertRefused("policy.promote.contention.percent", Map.of("policy.promote.contention.percent", "-1"));
        assertRefused("swap.threads", Map.of("swap.threads", "0"));
    }

    private static void assertRefused(String key, Map<String, ?> props) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StrategySettings.parse(props));
        assertTrue(e.getMessage().startsWith(key), "the message does not start with " + key + ": " + e.getMessage());
    }
}
