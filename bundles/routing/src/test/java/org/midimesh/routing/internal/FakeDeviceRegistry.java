package org.midimesh.routing.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.devices.DeviceRegistry;
import org.midimesh.api.devices.DeviceStatus;
import org.midimesh.api.devices.LocalDevice;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.midi.MidiMessage;

/** A registry of devices added by the test; records every play. Thread-safe. */
final class FakeDeviceRegistry implements DeviceRegistry {

    record Played(int output, List<MidiMessage> messages, NodeId source) {
    }

    private final Map<Integer, LocalDevice> devices = new ConcurrentHashMap<>();
    private final List<Played> played = Collections.synchronizedList(new ArrayList<>());
    // Set by the test before use; read by playing threads.
    volatile Consumer<Played> onPlay = p -> {
    };

    LocalDevice add(int id, DeviceType type) {
        LocalDevice d = new LocalDevice(id, type.wireName() + "-" + id, type, "fake");
        devices.put(id, d);
        return d;
    }

    void remove(int id) {
        devices.remove(id);
    }

    List<Played> played() {
        synchronized (played) {
            return List.copyOf(played);
        }
    }

    /** Every message played on {@code output}, in order. */
    List<MidiMessage> playedOn(int output) {
        List<MidiMessage> out = new ArrayList<>();
        for (Played p : played()) {
            if (p.output() == output) {
                out.addAll(p.messages());
            }
        }
        return out;
    }

    @Override
    public List<LocalDevice> devices() {
        return devices.values().stream().sorted((a, b) -> Integer.compare(a.id(), b.id())).toList();
    }

    @Override
    public Optional<LocalDevice> find(int id) {
        return Optional.ofNullable(devices.get(id));
    }

    @Override
    public Optional<MidiPort> port(int id) {
        return Optional.empty();
    }

    @Override
    public Optional<DeviceStatus> status(int id) {
        return Optional.empty();
    }

    @Override
    public void send(int id, List<MidiMessage> messages) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void play(int outputId, List<MidiMessage> messages, NodeId source) {
        LocalDevice d = devices.get(outputId);
        if (d == null) {
            throw new NoSuchElementException("no device " + outputId);
        }
        if (d.type() != DeviceType.OUTPUT) {
            throw new IllegalArgumentException("device " + outputId + " is an input");
        }
        Played p = new Played(outputId, List.copyOf(messages), source);
        played.add(p);
        onPlay.accept(p);
    }
}
