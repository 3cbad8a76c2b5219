package org.midimesh.node.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.osgi.resource.Requirement;
import org.osgi.resource.Resource;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class UnresolvedBundleWatcherTest {

    private static Requirement requirement(String namespace, String filter) {
        return new Requirement() {
            @Override
            public String getNamespace() {
                return namespace;
            }

            @Override
            public Map<String, String> getDirectives() {
                return Map.of("filter", filter);
            }

            @Override
            public Map<String, Object> getAttributes() {
                return Map.of();
            }

            @Override
            public Resource getResource() {
                return null;
            }
        };
    }

    @Test
    void shouldNameTheMissingPackageAndItsVersionRange() {
        assertEquals("missing package com.example.lib (version >= 1.2.0, < 2.0.0)", UnresolvedBundleWatcher.describe(
                requirement("osgi.wiring.package",
                        "(&(osgi.wiring.package=com.example.lib)(version>=1.2.0)(!(version>=2.0.0)))")));
    }

    @Test
    void shouldNameAPackageWithoutVersion() {
        assertEquals("missing package org.nowhere", UnresolvedBundleWatcher.describe(
                requirement("osgi.wiring.package", "(osgi.wiring.package=org.nowhere)")));
    }

    @Test
    void shouldShowOtherRequirementsAsNamespaceAndFilter() {
        assertEquals("missing osgi.extender (&(osgi.extender=osgi.component)(version>=1.5.0))",
                UnresolvedBundleWatcher.describe(requirement("osgi.extender",
                        "(&(osgi.extender=osgi.component)(version>=1.5.0))")));
    }
}
