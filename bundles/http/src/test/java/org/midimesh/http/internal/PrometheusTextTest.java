package org.midimesh.http.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PrometheusTextTest {

    @Test
    void shouldWriteFamiliesExactly() {
        PrometheusText p = new PrometheusText()
                .family("demo_requests_total", PrometheusText.Type.COUNTER, "Requests served")
                .sample(3, "method", "get", "code", "200")
                .sample(0, "method", "post", "code", "200")
                .family("demo_temperature", PrometheusText.Type.GAUGE, "A gauge without labels")
                .sample(-2.5)
                .family("demo_latency_ns", PrometheusText.Type.SUMMARY, "A summary")
                .sample(120, "quantile", "0.5")
                .sample(900, "quantile", "0.99")
                .summaryCount(42);
        assertEquals("""
                # HELP demo_requests_total Requests served
                # TYPE demo_requests_total counter
                demo_requests_total{method="get",code="200"} 3
                demo_requests_total{method="post",code="200"} 0
                # HELP demo_temperature A gauge without labels
                # TYPE demo_temperature gauge
                demo_temperature -2.5
                # HELP demo_latency_ns A summary
                # TYPE demo_latency_ns summary
                demo_latency_ns{quantile="0.5"} 120
                demo_latency_ns{quantile="0.99"} 900
                demo_latency_ns_count 42
                """, p.toString());
        Map<String, PrometheusFormat.Family> f = PrometheusFormat.parse(p.toString());
        assertEquals(3, f.size());
        assertEquals(42, f.get("demo_latency_ns").sampleValue("demo_latency_ns_count"));
    }

    @Test
    void shouldEscapeBackslashQuoteAndNewlineInLabelValues() {
        assertEquals("a\\\\b", PrometheusText.escapeLabelValue("a\\b"));
        assertEquals("say \\\"hi\\\"", PrometheusText.escapeLabelValue("say \"hi\""));
        assertEquals("line1\\nline2", PrometheusText.escapeLabelValue("line1\nline2"));
        assertEquals("\\\\n is not a newline", PrometheusText.escapeLabelValue("\\n is not a newline"));
        assertEquals("plain ü 日本", PrometheusText.escapeLabelValue("plain ü 日本"));
        assertEquals("", PrometheusText.escapeLabelValue(""));

        String nasty = "C:\\midi\\\"x\"\nend\\";
        PrometheusText p = new PrometheusText().family("demo_info", PrometheusText.Type.GAUGE, "info")
                .sample(1, "name", nasty);
        assertEquals("demo_info{name=\"C:\\\\midi\\\\\\\"x\\\"\\nend\\\\\"} 1", p.toString().split("\n")[2]);
        assertEquals(nasty, PrometheusFormat.parse(p.toString()).get("demo_info").samples().get(0).labels()
                .get("name"));
    }

    @Test
    void shouldEscapeBackslashAndNewlineInHelpButNotQuotes() {
        assertEquals("a \\\\ b\\nc \"q\"", PrometheusText.escapeHelp("a \\ b\nc \"q\""));
        PrometheusText p = new PrometheusText().family("demo", PrometheusText.Type.GAUGE, "two\nlines \\ \"q\"")
                .sample(1);
        assertEquals("# HELP demo two\\nlines \\\\ \"q\"", p.toString().split("\n")[0]);
        assertEquals("two\nlines \\ \"q\"", PrometheusFormat.parse(p.toString()).get("demo").help());
    }

    @Test
    void shouldFormatValuesAsGoParsesThem() {
        assertEquals("NaN", PrometheusText.formatDouble(Double.NaN));
        assertEquals("+Inf", PrometheusText.formatDouble(Double.POSITIVE_INFINITY));
        assertEquals("-Inf", PrometheusText.formatDouble(Double.NEGATIVE_INFINITY));
        assertEquals("3", PrometheusText.formatDouble(3.0));
        assertEquals("0", PrometheusText.formatDouble(-0.0));
        assertEquals("6.25", PrometheusText.formatDouble(6.25));
        assertEquals("33.333333333333336", PrometheusText.formatDouble(100.0 / 3));
        assertEquals("1.0E20", PrometheusText.formatDouble(1e20));
        assertEquals("1.0E-7", PrometheusText.formatDouble(1e-7));
        PrometheusText p = new PrometheusText().family("demo", PrometheusText.Type.GAUGE, "values");
        double[] values = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 1e20, 1e-7, 6.25};
        for (int i = 0; i < values.length; i++) {
            p.sample(values[i], "i", Integer.toString(i));
        }
        p.sample(Long.MAX_VALUE, "i", "long");
        PrometheusFormat.Family f = PrometheusFormat.parse(p.toString()).get("demo");
        for (int i = 0; i < values.length; i++) {
            assertEquals(values[i], f.value("i", Integer.toString(i)));
        }
        assertEquals((double) Long.MAX_VALUE, f.value("i", "long"));
    }

    @Test
    void shouldRefuseASecondFamilyOfTheSameName() {
        PrometheusText p = new PrometheusText().family("demo_total", PrometheusText.Type.COUNTER, "x").sample(1);
        assertThrows(IllegalStateException.class,
                () -> p.family("demo_total", PrometheusText.Type.COUNTER, "again"));
        PrometheusText s = new PrometheusText().family("lat", PrometheusText.Type.SUMMARY, "x");
        assertThrows(IllegalStateException.class, () -> s.family("lat_count", PrometheusText.Type.GAUGE, "x"));
        assertThrows(IllegalStateException.class, () -> s.family("lat_sum", PrometheusText.Type.GAUGE, "x"));
        PrometheusText g = new PrometheusText().family("lat_count", PrometheusText.Type.GAUGE, "x");
        assertThrows(IllegalStateException.class, () -> g.family("lat", PrometheusText.Type.SUMMARY, "x"));
    }

    @Test
    void shouldRequireTotalOnCountersOnly() {
        assertThrows(IllegalArgumentException.class,
                () -> new PrometheusText().family("demo_requests", PrometheusText.Type.COUNTER, "x"));
        assertThrows(IllegalArgumentException.class,
                () -> new PrometheusText().family("demo_total", PrometheusText.Type.GAUGE, "x"));
        assertThrows(IllegalArgumentException.class,
                () -> new PrometheusText().family("demo_count", PrometheusText.Type.SUMMARY, "x"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "1abc", "a-b", "a b", "a.b", "é"})
    void shouldRefuseInvalidMetricNames(String name) {
        assertThrows(IllegalArgumentException.class,
                () -> new PrometheusText().family(name, PrometheusText.Type.GAUGE, "x"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "1a", "a-b", "a:b", "__reserved", "le"})
    void shouldRefuseInvalidOrReservedLabelNames(String label) {
        PrometheusText p = new PrometheusText().family("demo", PrometheusText.Type.GAUGE, "x");
        assertThrows(IllegalArgumentException.class, () -> p.sample(1, label, "v"));
    }

    @Test
    void shouldRefuseSamplesThatBreakTheFormat() {
        assertThrows(IllegalStateException.class, () -> new PrometheusText().sample(1));
        PrometheusText g = new PrometheusText().family("demo", PrometheusText.Type.GAUGE, "x").sample(1, "a", "1");
        assertThrows(IllegalStateException.class, () -> g.sample(2, "a", "1"));
        assertThrows(IllegalArgumentException.class, () -> g.sample(2, "a"));
        assertThrows(IllegalArgumentException.class, () -> g.sample(2, "a", "1", "a", "2"));
        assertThrows(IllegalArgumentException.class, () -> g.sample(2, "a", null));
        assertThrows(IllegalArgumentException.class, () -> g.sample(2, "quantile", "0.5"));
        assertThrows(IllegalStateException.class, () -> g.summaryCount(2));
        PrometheusText s = new PrometheusText().family("lat", PrometheusText.Type.SUMMARY, "x");
        assertThrows(IllegalArgumentException.class, () -> s.sample(1, "strategy", "mutex"));
        assertThrows(IllegalArgumentException.class, () -> s.summaryCount(1, "quantile", "0.5"));
        // the same labels in another order are the same series
        PrometheusText o = new PrometheusText().family("demo", PrometheusText.Type.GAUGE, "x").sample(1, "a", "1",
                "b", "2");
        assertThrows(IllegalStateException.class, () -> o.sample(1, "b", "2", "a", "1"));
    }

    @Test
    void shouldReadACounterPerStrategyAndPerPeerAsTheMetricsServletWritesThem() {
        // issue 6 added stalls: one family of node totals per strategy, one per peer, never mixed in one family
        PrometheusText p = new PrometheusText()
                .family("midimesh_connection_stalls_total", PrometheusText.Type.COUNTER, "Stalls, per strategy")
                .sample(5, "strategy", "mutex").sample(0, "strategy", "seda")
                .family("midimesh_peer_connection_stalls_total", PrometheusText.Type.COUNTER, "Stalls, per peer")
                .sample(2, "peer", "22222222-2222-2222-2222-222222222222", "strategy", "mutex");
        Map<String, PrometheusFormat.Family> f = PrometheusFormat.parse(p.toString());
        assertEquals(5, f.get("midimesh_connection_stalls_total").value("strategy", "mutex"));
        assertEquals(2, f.get("midimesh_peer_connection_stalls_total").value("peer",
                "22222222-2222-2222-2222-222222222222", "strategy", "mutex"));
        // a peer sample in the per-strategy family would make sum() count it twice: the reader refuses it
        PrometheusText mixed = new PrometheusText()
                .family("midimesh_connection_stalls_total", PrometheusText.Type.COUNTER, "Stalls")
                .sample(5, "strategy", "mutex").sample(2, "peer", "p", "strategy", "mutex");
        assertThrows(AssertionError.class, () -> PrometheusFormat.parse(mixed.toString()));
    }

    @Test
    void shouldCatchInvalidTextInTheTestReader() {
        // the reader the servlet tests rely on must itself reject what is invalid
        String[] invalid = {
            "demo 1\n",
            "# HELP demo x\n# TYPE demo gauge\ndemo 1",
            "# HELP demo x\n# TYPE demo gauge\ndemo{a=\"1\"} 1\ndemo{a=\"1\"} 2\n",
            "# HELP demo x\n# TYPE demo gauge\ndemo 1\n# HELP demo x\n# TYPE demo gauge\n",
            "# HELP demo x\n# TYPE demo counter\ndemo 1\n",
            "# HELP demo x\n# TYPE demo gauge\nother 1\n",
            "# HELP demo x\n# TYPE demo gauge\ndemo{a=\"\\q\"} 1\n",
            "# HELP demo x\n# TYPE demo gauge\ndemo{a=\"x\"y\"} 1\n",
            "# HELP demo x\n# TYPE demo gauge\ndemo 1 123\n",
            "# HELP demo x\n# TYPE demo gauge\ndemo Infinity\n",
            "# HELP demo x\n# TYPE demo summary\ndemo 1\n",
            "# HELP demo_total x\n# TYPE demo_total counter\ndemo_total -1\n",
            "# HELP demo_total x\n# TYPE demo_total counter\ndemo_total NaN\n",
            "# HELP demo_total x\n# TYPE demo_total counter\ndemo_total 1.5\n",
            "# HELP demo x\n# TYPE demo summary\ndemo{quantile=\"0.5\"} 1\ndemo_count 2.5\n",
            "# HELP demo_total x\n# TYPE demo_total counter\ndemo_total{strategy=\"mutex\"} 1\ndemo_total 2\n",
            "# HELP demo x\n# TYPE demo summary\ndemo{peer=\"a\",quantile=\"0.5\"} 1\ndemo_count 1\n",
        };
        for (String text : invalid) {
            assertThrows(AssertionError.class, () -> PrometheusFormat.parse(text), text);
        }
    }
}
