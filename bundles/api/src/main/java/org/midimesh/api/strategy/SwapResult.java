package org.midimesh.api.strategy;

import java.util.List;

/**
 * What a change did to the live connections. Immutable.
 *
 * @param migrated connections that moved to another strategy
 * @param tookMs   from the decision until the last of them had moved
 * @param failures one line per connection that could not move (it went on with its strategy), for a person to read
 */
public record SwapResult(int migrated, long tookMs, List<String> failures) {

    public SwapResult {
        failures = List.copyOf(failures);
    }
}
