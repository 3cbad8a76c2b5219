package org.midimesh.api.routing;

import java.util.Optional;
import java.util.Set;

import org.midimesh.api.midi.MessageType;

/**
 * Fields for creating a route or changing one. On update, empty fields stay as they are; source and destination are
 * only taken on create. Immutable.
 */
public record RouteRequest(Optional<RouteEndpoint> source, Optional<RouteEndpoint> destination,
        Optional<Boolean> enabled, Optional<Integer> priority, Optional<Integer> channelFilter,
        Optional<Set<MessageType>> messageTypes) {
}
