/**
 * Choosing connection strategies while the node runs: the default, a canary share, pins per peer, the report that
 * compares strategies over a sliding window and the policy that recommends (or, in auto mode, makes) promotions and
 * rollbacks. One service, {@link org.midimesh.api.strategy.StrategyControl}, provided by the strategy manager; the
 * mesh, the HTTP API and the shell use it, and nothing else chooses a strategy.
 */
@Export
@Version("1.0.0")
package org.midimesh.api.strategy;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
