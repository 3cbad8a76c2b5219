package org.midimesh.routing.internal;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

import org.midimesh.api.midi.MessageType;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.api.routing.RouteEndpoint;

/**
 * One route as configured, plus its shared counters. Immutable apart from the counters; an update makes a new
 * instance with the same counters. Thread-safe; lives in the router's snapshot, read by any forwarding thread.
 */
final class RouteState {

    static final int DEFAULT_PRIORITY = 100;
    static final int MIN_PRIORITY = 0;
    static final int MAX_PRIORITY = 1000;
    static final int MAX_CHANNEL = 16;

    final String id;
    final boolean enabled;
    final int priority;
    final RouteEndpoint source;
    final RouteEndpoint destination;
    final int channelFilter;
    final Set<MessageType> messageTypes;
    final RouteCounters counters;

    /** Bit {@code 1 << ordinal} per accepted type; 0 accepts every type. */
    private final int typeMask;

    RouteState(String id, boolean enabled, int priority, RouteEndpoint source, RouteEndpoint destination,
            int channelFilter, Set<MessageType> messageTypes, RouteCounters counters) {
        this.id = Objects.requireNonNull(id, "id");
        this.enabled = enabled;
        this.priority = checkPriority(priority);
        this.source = Objects.requireNonNull(source, "source");
        this.destination = Objects.requireNonNull(destination, "destination");
        this.channelFilter = checkChannelFilter(channelFilter);
        this.messageTypes = messageTypes.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(messageTypes));
        this.counters = Objects.requireNonNull(counters, "counters");
        int mask = 0;
        for (MessageType t : this.messageTypes) {
            mask |= 1 << t.ordinal();
        }
        this.typeMask = mask;
    }

    /** The same route with other settings and the same counters. */
    RouteState with(boolean newEnabled, int newPriority, int newChannelFilter, Set<MessageType> newTypes) {
        return new RouteState(id, newEnabled, newPriority, source, destination, newChannelFilter, newTypes, counters);
    }

    boolean acceptsAll() {
        return channelFilter == 0 && typeMask == 0;
    }

    /** Channel messages match on their channel; system messages pass only when the channel filter is 0. */
    boolean accepts(MidiMessage m) {
        if (channelFilter != 0 && m.channel() != channelFilter) {
            return false;
        }
        return typeMask == 0 || (typeMask & (1 << m.type().ordinal())) != 0;
    }

    boolean sameSettings(RouteState o) {
        return enabled == o.enabled && priority == o.priority && channelFilter == o.channelFilter
                && messageTypes.equals(o.messageTypes);
    }

    /** @throws IllegalArgumentException naming the field */
    static int checkPriority(int priority) {
        if (priority < MIN_PRIORITY || priority > MAX_PRIORITY) {
            throw new IllegalArgumentException(
                    "priority must be " + MIN_PRIORITY + ".." + MAX_PRIORITY + ", not " + priority);
        }
        return priority;
    }

    /** @throws IllegalArgumentException naming the field */
    static int checkChannelFilter(int channelFilter) {
        if (channelFilter < 0 || channelFilter > MAX_CHANNEL) {
            throw new IllegalArgumentException(
                    "channel_filter must be 0 (all) or 1.." + MAX_CHANNEL + ", not " + channelFilter);
        }
        return channelFilter;
    }
}
