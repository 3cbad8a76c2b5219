package org.midimesh.api.devices;

import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;

import org.midimesh.api.NodeId;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.midi.MidiMessage;
import org.osgi.annotation.versioning.ProviderType;

/**
 * This node's local devices. Ids are small integers, stable across restarts for the same driver, direction and
 * port name (kept in the data dir). Thread-safe; {@link DeviceListener}s are called without any lock held.
 */
@ProviderType
public interface DeviceRegistry {

    /** An immutable snapshot, ordered by id. */
    List<LocalDevice> devices();

    Optional<LocalDevice> find(int id);

    Optional<MidiPort> port(int id);

    /** How the device is doing now; empty when there is no device with that id. Never blocks. */
    Optional<DeviceStatus> status(int id);

    /**
     * On an input, the messages enter the mesh as if the device had produced them; on an output they are queued to be
     * played on it (with this node as the source), as by {@link #play}.
     *
     * @throws NoSuchElementException when there is no device with that id
     */
    void send(int id, List<MidiMessage> messages);

    /**
     * Queues messages for a local output, to be played on its delivery thread; returns at once. Messages that do not
     * fit in the output's queue, or come while it is unavailable, are dropped and counted in its {@link DeviceStatus}.
     *
     * @throws NoSuchElementException   when there is no device with that id
     * @throws IllegalArgumentException when the device is an input
     */
    void play(int outputId, List<MidiMessage> messages, NodeId source);
}
