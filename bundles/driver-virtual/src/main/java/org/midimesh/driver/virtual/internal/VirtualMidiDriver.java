package org.midimesh.driver.virtual.internal;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

import org.midimesh.api.DeviceType;
import org.midimesh.api.LocalNode;
import org.midimesh.api.driver.MidiDriver;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.driver.PortListener;
import org.midimesh.common.PortListeners;
import org.midimesh.api.virtual.ReceivedLog;
import org.midimesh.api.virtual.VirtualPorts;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The virtual MIDI driver: the node's default ports {@code "<node> In"} and {@code "<node> Out"}, plus the ports created
 * through {@link VirtualPorts}, which are kept in {@code <dataDir>/virtual-ports.json} and come back after a restart.
 * <p>Thread-safe. {@link #create} and {@link #delete} take the admin lock to change and store the port list, then
 * release it and call the {@link PortListener}s on the caller's thread. {@link #ports()} and {@link #find} read a
 * published snapshot and never block. Owns no thread.
 */
@Component(immediate = true, service = {MidiDriver.class, VirtualPorts.class},
        property = "driver=" + VirtualMidiDriver.NAME)
public final class VirtualMidiDriver implements MidiDriver, VirtualPorts {

    static final String NAME = "virtual";
    static final int MAX_NAME_LENGTH = 64;

    private static final Logger LOG = LoggerFactory.getLogger(VirtualMidiDriver.class);
    private static final Logger AUDIT = LoggerFactory.getLogger("midimesh.audit");

    private final VirtualPortStore store;
    private final int logCapacity;
    private final Clock clock;

    /** Serialises create and delete, including the file write, so the file always matches the published list. */
    private final ReentrantLock adminLock = new ReentrantLock();

    // The ports: an immutable list, defaults first, then created ports in creation order. Written under adminLock,
    // read without a lock by anyone; the volatile write publishes the list and the port objects in it.
    private volatile List<VirtualPort> ports;

    private final PortListeners listeners = new PortListeners(this);

    @Activate
    public VirtualMidiDriver(@Reference(name = "node") LocalNode node) {
        this(node, ReceivedLog.CAPACITY, Clock.systemUTC());
    }

    /** For tests: a smaller received log, a fixed clock. */
    VirtualMidiDriver(LocalNode node, int logCapacity, Clock clock) {
        this.store = new VirtualPortStore(node.dataDir());
        this.logCapacity = logCapacity;
        this.clock = clock;
        List<VirtualPort> initial = new ArrayList<>();
        initial.add(newPort(node.name() + " In", DeviceType.INPUT, true));
        initial.add(newPort(node.name() + " Out", DeviceType.OUTPUT, true));
        for (VirtualPortStore.Entry e : store.load()) {
            String problem = nameProblem(e.name());
            if (problem != null) {
                LOG.warn("{}: skipping stored port \"{}\": {}", store.file(), e.name(), problem);
            } else if (find(initial, e.name(), e.type()) != null) {
                LOG.warn("{}: skipping stored {} \"{}\": a port of that name and type exists", store.file(),
                        e.type().wireName(), e.name());
            } else {
                initial.add(newPort(e.name(), e.type(), false));
            }
        }
        this.ports = List.copyOf(initial);
        LOG.info("virtual driver activated, {} ports ({} created), data in {}", initial.size(), initial.size() - 2,
                store.file());
    }

    @Deactivate
    void deactivate() {
        listeners.clear();
        LOG.info("virtual driver deactivated");
    }

    @Override
    public String name() {
        return NAME;
    }

    /** Immutable snapshot; never blocks. */
    @Override
    public List<MidiPort> ports() {
        return List.copyOf(ports);
    }

    @Override
    public void addPortListener(PortListener listener) {
        listeners.add(listener);
    }

    @Override
    public void removePortListener(PortListener listener) {
        listeners.remove(listener);
    }

    /**
     * Creates and stores a port, then tells the listeners on this thread, without a lock, before returning.
     *
     * @throws IllegalArgumentException naming the field when the name is blank, longer than {@value #MAX_NAME_LENGTH}
     *                                  characters or has control characters, the type is missing, or a port of that
     *                                  name and type exists
     * @throws java.io.UncheckedIOException when the port list cannot be stored; nothing is created then
     */
    @Override
    public MidiPort create(String name, DeviceType type) {
        String problem = nameProblem(name);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        if (type == null) {
            throw new IllegalArgumentException("type is missing");
        }
        VirtualPort port = newPort(name, type, false);
        adminLock.lock();
        try {
            List<VirtualPort> current = ports;
            if (find(current, name, type) != null) {
                throw new IllegalArgumentException("name: a virtual " + type.wireName() + " named \"" + name
                        + "\" already exists");
            }
            List<VirtualPort> updated = new ArrayList<>(current);
            updated.add(port);
            store.save(stored(updated));
            ports = List.copyOf(updated);
        } finally {
            adminLock.unlock();
        }
        AUDIT.info("created {}", port);
        listeners.added(port);
        return port;
    }

    /**
     * Deletes a created port, then tells the listeners on this thread, without a lock, before returning.
     *
     * @return false when there is no such port
     * @throws IllegalArgumentException when the name or type is missing, or for the node's default ports
     * @throws java.io.UncheckedIOException when the port list cannot be stored; nothing is deleted then
     */
    @Override
    public boolean delete(String name, DeviceType type) {
        if (name == null) {
            throw new IllegalArgumentException("name is missing");
        }
        if (type == null) {
            throw new IllegalArgumentException("type is missing");
        }
        VirtualPort port;
        adminLock.lock();
        try {
            List<VirtualPort> current = ports;
            port = find(current, name, type);
            if (port == null) {
                return false;
            }
            if (port.builtIn()) {
                throw new IllegalArgumentException("the node's default ports cannot be deleted");
            }
            List<VirtualPort> updated = new ArrayList<>(current);
            updated.remove(port);
            store.save(stored(updated));
            ports = List.copyOf(updated);
        } finally {
            adminLock.unlock();
        }
        AUDIT.info("deleted {}", port);
        VirtualPort removed = port;
        listeners.removed(removed);
        return true;
    }

    /** Never blocks. */
    @Override
    public Optional<MidiPort> find(String name, DeviceType type) {
        return Optional.ofNullable(find(ports, name, type));
    }

    /** Never blocks. */
    @Override
    public boolean owns(MidiPort port) {
        return port instanceof VirtualPort && ports.contains(port);
    }

    @Override
    public boolean isDefault(MidiPort port) {
        return port instanceof VirtualPort v && v.builtIn() && ports.contains(v);
    }

    /** Why a port name is not acceptable, naming the field, or null when it is fine. */
    static String nameProblem(String name) {
        if (name == null || name.isBlank()) {
            return "name must not be blank";
        }
        int length = name.codePointCount(0, name.length());
        if (length > MAX_NAME_LENGTH) {
            return "name must be at most " + MAX_NAME_LENGTH + " characters, not " + length;
        }
        if (name.codePoints().anyMatch(Character::isISOControl)) {
            return "name must not contain control characters";
        }
        return null;
    }

    private VirtualPort newPort(String name, DeviceType type, boolean builtIn) {
        return type == DeviceType.INPUT
                ? new VirtualInputPort(name, builtIn)
                : new VirtualOutputPort(name, builtIn, logCapacity, clock);
    }

    private static VirtualPort find(List<VirtualPort> list, String name, DeviceType type) {
        for (VirtualPort p : list) {
            if (p.is(name, type)) {
                return p;
            }
        }
        return null;
    }

    private static List<VirtualPortStore.Entry> stored(List<VirtualPort> list) {
        List<VirtualPortStore.Entry> out = new ArrayList<>();
        for (VirtualPort p : list) {
            if (!p.builtIn()) {
                out.add(new VirtualPortStore.Entry(p.name(), p.type()));
            }
        }
        return out;
    }

}
