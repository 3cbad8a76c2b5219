/**
 * Core identities of the mesh: nodes, devices and the local node's own description.
 * <p>Every type here is immutable and thread-safe.
 * <p>2.0.0: {@code LocalNode.defaultStrategy()} became {@code strategyOption()} (the strategy in use can change while
 * the node runs).
 */
@Export
@Version("2.0.0")
package org.midimesh.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
