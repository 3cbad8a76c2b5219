package org.midimesh.api.devices;

import java.util.Objects;

/**
 * How a local device is doing now. Immutable.
 *
 * @param available true when the port can be used now
 * @param reason    why not, when it cannot (empty when available)
 * @param played    messages played on an output so far (0 for inputs)
 * @param dropped   messages for an output dropped so far: its queue was full, or it was unavailable
 * @param queued    messages waiting in an output's queue now
 * @param failures  {@code play} calls that threw so far
 */
public record DeviceStatus(boolean available, String reason, long played, long dropped, int queued, long failures) {

    public DeviceStatus {
        Objects.requireNonNull(reason, "reason");
    }
}
