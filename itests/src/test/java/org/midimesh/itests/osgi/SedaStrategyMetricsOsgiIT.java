package org.midimesh.itests.osgi;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/** A node in Felix running with the seda strategy serves its metrics. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class SedaStrategyMetricsOsgiIT extends StrategyMetricsOsgiBase {

    @Configuration
    public Option[] config() {
        return MidiMeshOsgiOptions.node("SedaStrategyMetricsOsgiIT", "seda");
    }

    @Test(timeout = 90_000)
    public void theNodeUsesItsStrategyAndServesItsMetrics() throws Exception {
        assertNodeUsesStrategyAndServesItsMetrics("seda");
    }
}
