package org.midimesh.strategy.internal;

import java.util.Comparator;
import java.util.Objects;

import org.midimesh.api.strategy.spi.ConnectionStrategy;

/**
 * One bound strategy service, or the manager's parking place ({@link #parked}) that holds connections while no strategy
 * is there.
 * Immutable. Two slots are equal when they are the same service (the strategy object and the service id).
 *
 * @param name      the {@code strategy} service property (or the strategy's own name without one)
 * @param ranking   {@code service.ranking}
 * @param serviceId {@code service.id}; ties of ranking go to the lower id, as OSGi orders services
 */
record Slot(String name, ConnectionStrategy strategy, int ranking, long serviceId) {

    /** Name shown for connections that wait for any strategy. */
    static final String NONE = "none";

    /** The best service of a name first: highest ranking, then lowest service id. */
    static final Comparator<Slot> BEST_FIRST = Comparator.comparingInt(Slot::ranking).reversed()
            .thenComparingLong(Slot::serviceId);

    /** The slot of a manager's own parking place (one per manager: it keeps counters). */
    static Slot parked(ParkedStrategy parking) {
        return new Slot(NONE, parking, Integer.MIN_VALUE, -1);
    }

    Slot {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(strategy, "strategy");
    }

    boolean isParked() {
        return strategy instanceof ParkedStrategy;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Slot s && s.strategy == strategy && s.serviceId == serviceId;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(strategy) * 31 + Long.hashCode(serviceId);
    }

    @Override
    public String toString() {
        return name + " (service " + serviceId + ", ranking " + ranking + ")";
    }
}
