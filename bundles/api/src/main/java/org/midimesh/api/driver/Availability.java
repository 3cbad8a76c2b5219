package org.midimesh.api.driver;

import java.util.Objects;

/**
 * Whether a port can be used now and, when it cannot, why (for a person: it is shown in {@code /midi/devices}).
 * Immutable.
 *
 * @param available true when the port can be opened and used now
 * @param reason    why it cannot; empty when it is available
 */
public record Availability(boolean available, String reason) {

    public static final Availability AVAILABLE = new Availability(true, "");

    public Availability {
        Objects.requireNonNull(reason, "reason");
        if (available != reason.isEmpty()) {
            throw new IllegalArgumentException(available ? "an available port has no reason"
                    : "an unavailable port needs a reason");
        }
    }

    /** @param reason why the port cannot be used now, for example {@code "no audio line for the synthesizer"} */
    public static Availability unavailable(String reason) {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("an unavailable port needs a reason");
        }
        return new Availability(false, reason);
    }
}
