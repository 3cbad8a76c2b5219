package org.midimesh.api.routing;

import java.util.Objects;
import java.util.Set;

import org.midimesh.api.midi.MessageType;

/**
 * A route and its statistics at the moment it was read. Immutable.
 *
 * @param channelFilter 0 for all channels, else 1..16 (system messages pass only with 0)
 * @param messageTypes  the types that pass; empty means all
 * @param orphaned       an endpoint is not known now: a local device that does not exist (any more), or a remote
 *                       node that is not connected or has no such device (the route is kept; it forwards nothing
 *                       until the endpoint is back)
 * @param orphanedReason why, for a person; empty when not orphaned
 */
public record Route(String id, boolean enabled, int priority, RouteEndpoint source, RouteEndpoint destination,
        int channelFilter, Set<MessageType> messageTypes, long messagesForwarded, long messagesDropped,
        boolean orphaned, String orphanedReason) {

    public Route {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(destination, "destination");
        Objects.requireNonNull(orphanedReason, "orphanedReason");
        messageTypes = Set.copyOf(messageTypes);
        if (channelFilter < 0 || channelFilter > 16) {
            throw new IllegalArgumentException("channel_filter must be 0..16, not " + channelFilter);
        }
    }
}
