package org.midimesh.api;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import aQute.bnd.differ.Baseline;
import aQute.bnd.differ.DiffPluginImpl;
import aQute.bnd.osgi.Jar;
import aQute.bnd.osgi.Processor;

/**
 * bnd baselining of the API bundle: every exported package's version must say what changed since the baseline (the
 * last release, {@code cnf/baseline/midimesh-api.jar}): a removed or changed method of a provider-facing type is a
 * major change, an added method of a {@code @ProviderType} a minor one, and so on. So a plugin compiled against
 * {@code org.midimesh.api.driver} 2.x keeps resolving on every later 2.x. Runs on the packaged jar (failsafe, after
 * {@code package}). When a release ships, its API jar becomes the new baseline.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ApiBaselineIT {

    @Test
    void everyExportedPackageVersionMatchesItsChangesSinceTheBaseline() throws Exception {
        File built = new File(System.getProperty("api.jar", "target/midimesh-api.jar"));
        File baseline = new File(System.getProperty("api.baseline", "../../cnf/baseline/midimesh-api.jar"));
        assertTrue(built.isFile(), "the packaged API jar " + built + " exists");
        assertTrue(baseline.isFile(), "the baseline " + baseline + " exists");
        List<String> mismatches = new ArrayList<>();
        try (Processor reporter = new Processor(); Jar newer = new Jar(built); Jar older = new Jar(baseline)) {
            Set<Baseline.Info> infos = new Baseline(reporter, new DiffPluginImpl()).baseline(newer, older, null);
            assertFalse(infos.isEmpty(), "the baseline compared some packages");
            for (Baseline.Info i : infos) {
                if (i.mismatch) {
                    mismatches.add(i.packageName + ": version " + i.newerVersion + " (was " + i.olderVersion
                            + ") but the changes need " + i.suggestedVersion
                            + (i.reason == null ? "" : " (" + i.reason + ")"));
                }
            }
            assertTrue(reporter.getErrors().isEmpty(), () -> "bnd reported " + reporter.getErrors());
        }
        assertTrue(mismatches.isEmpty(), () -> "package versions do not match their changes:\n  "
                + String.join("\n  ", mismatches));
    }
}
