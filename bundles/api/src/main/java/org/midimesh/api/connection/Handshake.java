package org.midimesh.api.connection;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.NodeInfo;

/**
 * What one side of a handshake tells the other: who it is, where to reach it, its local devices and, from senders
 * that number them, which version of its device list that is. Immutable.
 *
 * @param devicesVersion the version of {@code devices} on the sender; empty from senders that do not send one (then
 *                       the list is taken as the newest, as before versions existed)
 */
public record Handshake(NodeInfo node, List<DeviceInfo> devices, Optional<DevicesVersion> devicesVersion) {

    public Handshake {
        Objects.requireNonNull(node, "node");
        devices = List.copyOf(devices);
        Objects.requireNonNull(devicesVersion, "devicesVersion");
    }

    /** A handshake without a device list version. */
    public Handshake(NodeInfo node, List<DeviceInfo> devices) {
        this(node, devices, Optional.empty());
    }

    /**
     * The version of a node's device list (docs/protocol.md, "Handshake"): {@code number} counts the changes of the list
     * since the node started, {@code epoch} names that start. Handshakes travel on several HTTP exchanges at once, so a
     * list can arrive after a newer one; the receiver keeps the newest by this version. Immutable.
     *
     * @param epoch  different on every start of the sender: 1 to {@value #MAX_EPOCH} characters, no blanks or control
     *               characters
     * @param number 0 for the list the node started with, one more for each change since
     */
    public record DevicesVersion(String epoch, long number) {

        public static final int MAX_EPOCH = 64;

        public DevicesVersion {
            Objects.requireNonNull(epoch, "epoch");
            if (epoch.isEmpty() || epoch.length() > MAX_EPOCH
                    || epoch.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
                throw new IllegalArgumentException("devices_epoch must be 1.." + MAX_EPOCH
                        + " characters without blanks or control characters");
            }
            if (number < 0) {
                throw new IllegalArgumentException("devices_version must be 0 or more, not " + number);
            }
        }

        /**
         * The version the handshake JSON's optional fields {@code devices_epoch} and {@code devices_version} give
         * (null when absent): empty when both are absent.
         *
         * @throws IllegalArgumentException naming the field when only one is there, or it is invalid
         */
        public static Optional<DevicesVersion> fromWire(String epoch, Long number) {
            if (epoch == null && number == null) {
                return Optional.empty();
            }
            if (epoch == null || number == null) {
                throw new IllegalArgumentException((epoch == null ? "devices_epoch" : "devices_version")
                        + " is missing: devices_epoch and devices_version come together");
            }
            return Optional.of(new DevicesVersion(epoch, number));
        }

        /**
         * Whether a list of this version replaces one of version {@code other}: always when the sender started again
         * since (another epoch), else when this number is at least as high (the same list again is no loss).
         */
        public boolean replaces(DevicesVersion other) {
            return !epoch.equals(other.epoch) || number >= other.number;
        }
    }
}
