package org.midimesh.api.routing;

import java.util.Objects;
import java.util.Set;

import org.midimesh.api.midi.MessageType;

/**
 * A route and its statistics at the moment it was read. Immutable.
 *
 * @param channelFilter 0 for all channels, else 1..16 (system messages pass only with 0)
 * @param messageTypes  the types that pass; empty means all
 * @param orphaned      a local endpoint device no longer exists (the route is kept, and forwards nothing)
 */
public record Route(String id, boolean enabled, int priority, RouteEndpoint source, RouteEndpoint destination,
        int channelFilter, Set<MessageType> messageTypes, long messagesForwarded, long messagesDropped,
        boolean orphaned) {

    public Route {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(destination, "destination");
        messageTypes = Set.copyOf(messageTypes);
        if (channelFilter < 0 || channelFilter > 16) {
            throw new IllegalArgumentException("channel_filter must be 0..16, not " + channelFilter);
        }
    }
}
