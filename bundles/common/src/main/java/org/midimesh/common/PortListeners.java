package org.midimesh.common;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import org.midimesh.api.driver.MidiDriver;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.driver.PortListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A driver's {@link PortListener}s: added and removed from any thread, told of a port change on the caller's thread.
 * A listener that throws is logged and does not keep the others from being told. Never holds a lock while calling a
 * listener (the list is copy-on-write), so the driver keeps the SPI's rule as long as it calls {@link #added} and
 * {@link #removed} without a lock of its own held.
 */
public final class PortListeners {

    private static final Logger LOG = LoggerFactory.getLogger(PortListeners.class);

    private final MidiDriver driver;
    private final CopyOnWriteArrayList<PortListener> listeners = new CopyOnWriteArrayList<>();

    public PortListeners(MidiDriver driver) {
        this.driver = driver;
    }

    /** Adding one twice has no effect. @throws IllegalArgumentException when {@code listener} is null */
    public void add(PortListener listener) {
        if (listener == null) {
            throw new IllegalArgumentException("listener is missing");
        }
        listeners.addIfAbsent(listener);
    }

    public void remove(PortListener listener) {
        listeners.remove(listener);
    }

    public void clear() {
        listeners.clear();
    }

    public void added(MidiPort port) {
        fire(l -> l.portAdded(driver, port), port);
    }

    public void removed(MidiPort port) {
        fire(l -> l.portRemoved(driver, port), port);
    }

    private void fire(Consumer<PortListener> call, MidiPort port) {
        for (PortListener l : listeners) {
            try {
                call.accept(l);
            } catch (Throwable t) {
                LOG.error("port listener {} failed on {}", l, port, t);
            }
        }
    }
}
