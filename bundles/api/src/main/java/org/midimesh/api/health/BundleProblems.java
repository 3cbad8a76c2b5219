package org.midimesh.api.health;

import java.util.List;
import java.util.Objects;

import org.osgi.annotation.versioning.ProviderType;

/** The installed bundles that do not resolve now, each with what it lacks. Thread-safe; never blocks. */
@ProviderType
public interface BundleProblems {

    /**
     * One bundle that does not resolve.
     *
     * @param bundle   symbolic name and version, for example {@code com.example.driver 1.0.0}
     * @param location where it was installed from (a {@code file:} URL under {@code deploy/} for a plugin)
     * @param reason   what it lacks, for a person, for example {@code missing package com.example.lib (version >= 2)}
     */
    record Problem(String bundle, String location, String reason) {
        public Problem {
            Objects.requireNonNull(bundle, "bundle");
            Objects.requireNonNull(location, "location");
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** The current problems, oldest bundle first; empty when every bundle resolves. */
    List<Problem> problems();
}
