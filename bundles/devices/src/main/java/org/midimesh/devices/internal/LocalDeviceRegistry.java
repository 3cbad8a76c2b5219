package org.midimesh.devices.internal;

import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.DeviceType;
import org.midimesh.api.LocalNode;
import org.midimesh.api.NodeId;
import org.midimesh.api.devices.DeviceListener;
import org.midimesh.api.devices.DeviceRegistry;
import org.midimesh.api.devices.DeviceStatus;
import org.midimesh.api.devices.LocalDevice;
import org.midimesh.api.driver.Availability;
import org.midimesh.api.driver.ImmediatePlay;
import org.midimesh.api.driver.InputSink;
import org.midimesh.api.driver.MidiDriver;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.driver.PortListener;
import org.midimesh.api.health.Warmable;
import org.midimesh.api.midi.MidiMessage;
import org.midimesh.common.Micros;
import org.midimesh.common.NamedThreadFactory;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's local devices: every port of every bound {@link MidiDriver}, each under a small id that stays the same
 * across restarts for the same driver, direction and port name ({@code <dataDir>/devices.json}). An id, once given
 * to a key, is never given to another, so routes to a deleted port stay orphaned instead of silently pointing at a
 * newer one.
 * <p>
 * Thread-safe. One lock guards the id table and the driver bindings; it is never held while calling a driver, a
 * port or a listener. Readers ({@link #devices()}, {@link #send}, {@link #play}) use an immutable snapshot and never
 * block. Whenever a driver reports a change, the registry re-reads that driver's whole port list and makes its devices
 * match it, so events that arrive late or out of order from several threads cannot leave a stale device behind.
 * <p>Outputs are played through their own {@link OutputLane}: {@link #play} queues and returns, and a thread of the
 * delivery pool ({@code midimesh-output-N}, at most one per output at a time) calls the port. The watchdog thread
 * ({@code midimesh-output-watchdog}) marks an output whose {@code play} has not returned within the hang limit as
 * unavailable. Both are owned here and stopped on deactivation. An output whose port is an {@link ImmediatePlay} is
 * played by the thread that delivers to it whenever its lane is idle, until a play overruns the inline limit.
 * The driver SPI's threading contract
 * ({@code org.midimesh.api.driver} package doc) is kept here.
 * <p>The ports called {@code "<node> In"} and {@code "<node> Out"} (the virtual driver's defaults) get ids 1 and 2 on a
 * fresh data dir whatever driver binds first (interface.md section 1); the registry knows no driver by name.
 */
@Component(service = DeviceRegistry.class)
public final class LocalDeviceRegistry implements DeviceRegistry, Warmable {

    /** Driver names: a lower-case letter or digit, then letters, digits, {@code - . _}; at most 32 characters. */
    private static final Pattern DRIVER_NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,31}");
    /** Port names longer than this are skipped (interface: at most 128 characters). */
    static final int MAX_PORT_NAME = 128;

    /**
     * Limits of output delivery; {@link #DEFAULT} in production, smaller in tests. {@code inlineLimitMicros}: an
     * {@link ImmediatePlay} port whose play on the delivering thread takes longer than this is played on its delivery
     * thread from then on; 0 turns inline play off.
     */
    record Settings(int queueCapacity, long hangLimitMillis, long watchdogPeriodMillis, long inlineLimitMicros) {
        static final Settings DEFAULT = new Settings(4096, 1000, 100, 5000);

        Settings(int queueCapacity, long hangLimitMillis, long watchdogPeriodMillis) {
            this(queueCapacity, hangLimitMillis, watchdogPeriodMillis, DEFAULT.inlineLimitMicros);
        }

        long inlineLimitNanos() {
            return TimeUnit.MICROSECONDS.toNanos(inlineLimitMicros);
        }
    }

    /** A driver whose port list changes during every re-read is left for its next event to settle. */
    private static final int MAX_RECONCILE_ROUNDS = 16;

    private static final Logger LOG = LoggerFactory.getLogger(LocalDeviceRegistry.class);

    private final LocalNode node;
    private final DeviceIdStore idStore;
    private final Settings settings;
    /** Plays outputs: a thread per output that has something to play; idle threads end after 30 s. */
    private final ExecutorService deliveryPool;
    private final ScheduledExecutorService watchdog;

    /** Guards the fields below it and every write of {@link #snapshot}. Never held while calling out. */
    private final ReentrantLock lock = new ReentrantLock();
    /** Every key ever given an id, key {@code driver/type/name}. */
    private final Map<String, Integer> ids;
    private final BitSet usedIds = new BitSet();
    /** Ids 1 and 2 while no key has them yet: for the first port named {@code "<node> In"} and {@code "<node> Out"}. */
    private final Map<DeviceType, Integer> reservedIds = new HashMap<>();
    /** True while {@link #ids} has entries the file lacks (reserved ones, or a write that failed). */
    private boolean idsUnsaved;
    /** The driver that owns each driver name. */
    private final Map<String, Binding> active = new HashMap<>();
    /** Drivers whose name another bound driver already has; one takes over when that one goes. */
    private final List<Binding> waiting = new ArrayList<>();
    private boolean closed;

    // The devices. Written only under lock (so writers never lose each other's changes), read without a lock by
    // anyone; the volatile write publishes the immutable snapshot and the entries in it.
    private final AtomicReference<Snapshot> snapshot = new AtomicReference<>(Snapshot.EMPTY);

    private final CopyOnWriteArrayList<ListenerSlot> listeners = new CopyOnWriteArrayList<>();

    private final PortListener driverEvents = new PortListener() {
        @Override
        public void portAdded(MidiDriver driver, MidiPort port) {
            reconcile(driver);
        }

        @Override
        public void portRemoved(MidiDriver driver, MidiPort port) {
            reconcile(driver);
        }

        @Override
        public String toString() {
            return "device registry";
        }
    };

    @Activate
    public LocalDeviceRegistry(@Reference(name = "node") LocalNode node) {
        this(node, Settings.DEFAULT);
    }

    LocalDeviceRegistry(LocalNode node, Settings settings) {
        this.node = node;
        this.settings = settings;
        this.idStore = new DeviceIdStore(node.dataDir());
        this.ids = idStore.load();
        ids.values().forEach(usedIds::set);
        reserve(DeviceType.INPUT, 1);
        reserve(DeviceType.OUTPUT, 2);
        this.deliveryPool = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS,
                new SynchronousQueue<>(), new NamedThreadFactory("midimesh-output", true));
        this.watchdog = Executors.newSingleThreadScheduledExecutor(
                new NamedThreadFactory("midimesh-output-watchdog", false));
        watchdog.scheduleWithFixedDelay(this::checkOutputs, settings.watchdogPeriodMillis(),
                settings.watchdogPeriodMillis(), TimeUnit.MILLISECONDS);
        LOG.info("device registry activated, {} device ids known, data in {}", ids.size(), idStore.file());
    }

    /**
     * Runs output delivery on private lanes of its own ({@link DeliveryWarmup}) on this registry's delivery pool (whose
     * threads then stay for 30 s). No device, id, listener or statistic of this registry is touched. On the node's
     * warm-up thread.
     */
    @Override
    public String warmUp(Duration budget) {
        return DeliveryWarmup.run(deliveryPool, settings.queueCapacity(), settings.inlineLimitNanos(), budget);
    }

    @Deactivate
    void deactivate() {
        List<Binding> bound;
        Snapshot last;
        lock.lock();
        try {
            closed = true;
            bound = new ArrayList<>(active.values());
            active.clear();
            waiting.clear();
            last = snapshot.getAndSet(Snapshot.EMPTY);
        } finally {
            lock.unlock();
        }
        for (Binding b : bound) {
            stopListening(b);
        }
        applySinks(new Delta(new ArrayList<>(last.byId().values()), List.of()));
        watchdog.shutdownNow();
        deliveryPool.shutdown(); // a play running now finishes; its lane was closed, so nothing follows it
        LOG.info("device registry deactivated");
    }

    // ---- drivers -----------------------------------------------------------------------------------------------

    @Reference(name = "driver", service = MidiDriver.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, unbind = "unbindDriver")
    void bindDriver(MidiDriver driver, ServiceReference<MidiDriver> ref) {
        Bundle bundle = ref.getBundle();
        addDriver(driver, bundle == null ? "a bundle that is gone"
                : "bundle " + bundle.getSymbolicName() + " " + bundle.getVersion());
    }

    void unbindDriver(MidiDriver driver, ServiceReference<MidiDriver> ref) {
        removeDriver(driver);
    }

    /** Binds a driver; {@code origin} names where it comes from, for the log (its bundle). */
    void addDriver(MidiDriver driver, String origin) {
        String name = driverName(driver, origin);
        if (name == null) {
            return;
        }
        Binding b = new Binding(driver, name, origin);
        boolean start;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            start = !active.containsKey(name);
            if (start) {
                active.put(name, b);
            } else {
                waiting.add(b);
            }
        } finally {
            lock.unlock();
        }
        if (start) {
            LOG.info("driver {} bound ({})", name, origin);
            startListening(b);
        } else {
            LOG.error("a second driver named {} is bound ({}); its ports stay hidden until the first one goes", name,
                    origin);
        }
    }

    void removeDriver(MidiDriver driver) {
        Binding gone = null;
        Binding promoted = null;
        Delta delta = Delta.NONE;
        lock.lock();
        try {
            waiting.removeIf(w -> w.driver == driver);
            for (Binding b : active.values()) {
                if (b.driver == driver) {
                    gone = b;
                }
            }
            if (gone != null) {
                active.remove(gone.name);
                delta = applyLocked(gone, Map.of());
                for (Iterator<Binding> it = waiting.iterator(); it.hasNext() && promoted == null; ) {
                    Binding w = it.next();
                    if (w.name.equals(gone.name)) {
                        it.remove();
                        promoted = w;
                        active.put(w.name, w);
                    }
                }
            }
        } finally {
            lock.unlock();
        }
        if (gone == null) {
            return;
        }
        stopListening(gone);
        applySinks(delta);
        if (delta.changed()) {
            fireDevicesChanged();
        }
        LOG.info("driver {} unbound ({}), {} devices gone", gone.name, gone.origin, delta.removed().size());
        if (promoted != null) {
            LOG.info("driver {}: the waiting driver of that name takes over", promoted.name);
            startListening(promoted);
        }
    }

    private void startListening(Binding b) {
        try {
            b.driver.addPortListener(driverEvents);
        } catch (Throwable t) {
            LOG.error("driver {} ({}) refused the port listener; its port changes will not be seen", b.name, b.origin,
                    t);
        }
        reconcile(b.driver);
    }

    private void stopListening(Binding b) {
        try {
            b.driver.removePortListener(driverEvents);
        } catch (Throwable t) {
            LOG.warn("driver {} ({}) failed to remove the port listener", b.name, b.origin, t);
        }
    }

    private static String driverName(MidiDriver driver, String origin) {
        String name;
        try {
            name = driver.name();
        } catch (Throwable t) {
            LOG.error("ignoring a driver of {} that cannot tell its name: {}", origin, driver, t);
            return null;
        }
        if (name == null || !DRIVER_NAME.matcher(name).matches() || name.equals("remote")) {
            LOG.error("ignoring driver {} of {}: its name \"{}\" is not 1..32 lower-case letters, digits, '-', '.' or"
                    + " '_' (or is the reserved \"remote\")", driver, origin, name);
            return null;
        }
        return name;
    }

    /**
     * Makes the driver's devices match its current port list: reads the list without the lock, applies it under the
     * lock, then reads it again and repeats if it changed meanwhile (another thread may have applied an older list
     * after ours). Sinks and listeners are called after the lock is released.
     */
    private void reconcile(MidiDriver driver) {
        for (int round = 0; round < MAX_RECONCILE_ROUNDS; round++) {
            Binding b = activeBinding(driver);
            if (b == null) {
                return; // not bound, or waiting behind a driver of the same name
            }
            List<MidiPort> raw = rawPorts(b);
            if (raw == null) {
                return;
            }
            Map<String, PortView> desired = views(b, raw);
            Delta delta;
            lock.lock();
            try {
                if (closed || active.get(b.name) != b) {
                    return;
                }
                delta = applyLocked(b, desired);
            } finally {
                lock.unlock();
            }
            applySinks(delta);
            if (delta.changed()) {
                fireDevicesChanged();
            }
            List<MidiPort> again = rawPorts(b);
            if (again == null || sameElements(raw, again)) {
                return;
            }
        }
        LOG.debug("driver {} kept changing its ports while they were read; its next event settles them", driver);
    }

    /** Marks outputs whose play hangs. On the watchdog thread. */
    private void checkOutputs() {
        long now = System.nanoTime();
        long limit = TimeUnit.MILLISECONDS.toNanos(settings.hangLimitMillis());
        for (Entry e : snapshot.get().byId().values()) {
            if (e.lane() != null) {
                e.lane().checkHung(now, limit);
            }
        }
    }

    private Binding activeBinding(MidiDriver driver) {
        lock.lock();
        try {
            for (Binding b : active.values()) {
                if (b.driver == driver) {
                    return b;
                }
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    private static List<MidiPort> rawPorts(Binding b) {
        try {
            List<MidiPort> ports = b.driver.ports();
            if (ports == null) {
                LOG.error("driver {} ({}) listed no port list (null)", b.name, b.origin);
            }
            return ports;
        } catch (Throwable t) {
            LOG.error("driver {} ({}) failed to list its ports", b.name, b.origin, t);
            return null;
        }
    }

    /** The driver's usable ports by key, in the driver's order; bad or repeated ones are logged and left out. */
    private static Map<String, PortView> views(Binding b, List<MidiPort> raw) {
        Map<String, PortView> out = new LinkedHashMap<>();
        for (MidiPort p : raw) {
            if (p == null) {
                continue;
            }
            String name;
            DeviceType type;
            try {
                name = p.name();
                type = p.type();
            } catch (Throwable t) {
                LOG.warn("driver {} ({}): skipping port {} that cannot tell its name or type", b.name, b.origin, p, t);
                continue;
            }
            if (name == null || name.isBlank() || type == null) {
                LOG.warn("driver {} ({}): skipping a port without a name or type: {}", b.name, b.origin, p);
                continue;
            }
            if (name.length() > MAX_PORT_NAME || name.chars().anyMatch(Character::isISOControl)) {
                LOG.warn("driver {} ({}): skipping a port whose name is over {} characters or has control characters",
                        b.name, b.origin, MAX_PORT_NAME);
                continue;
            }
            String key = key(b.name, type, name);
            if (out.putIfAbsent(key, new PortView(p, name, type, key)) != null) {
                LOG.warn("driver {} ({}): skipping a second {} named \"{}\"", b.name, b.origin, type.wireName(), name);
            }
        }
        return out;
    }

    private static boolean sameElements(List<MidiPort> a, List<MidiPort> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i) != b.get(i)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Replaces the binding's devices with {@code desired}: keeps the entries whose port is unchanged, removes the
     * others, adds new ones under their old id or the lowest id never given. Call with the lock held.
     */
    private Delta applyLocked(Binding b, Map<String, PortView> desired) {
        assert lock.isHeldByCurrentThread() : "applyLocked needs the registry lock";
        TreeMap<Integer, Entry> byId = new TreeMap<>(snapshot.get().byId());
        List<Entry> removed = new ArrayList<>();
        List<Entry> added = new ArrayList<>();
        for (Iterator<Entry> it = byId.values().iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (e.binding() == b) {
                PortView v = desired.get(e.key());
                if (v == null || v.port() != e.port()) {
                    it.remove();
                    removed.add(e);
                }
            }
        }
        for (PortView v : desired.values()) {
            Integer id = ids.get(v.key());
            if (id != null) {
                Entry current = byId.get(id);
                if (current != null && current.port() == v.port()) {
                    continue;
                }
            } else {
                int free = reservedFor(v);
                if (free == 0) {
                    free = usedIds.nextClearBit(1);
                }
                if (free > DeviceInfo.MAX_ID) {
                    LOG.error("no device id left for {} (all 1..{} were given)", v.key(), DeviceInfo.MAX_ID);
                    continue;
                }
                id = free;
                ids.put(v.key(), id);
                usedIds.set(id);
                idsUnsaved = true;
            }
            LocalDevice device = new LocalDevice(id, v.name(), v.type(), b.name);
            OutputLane lane = v.type() == DeviceType.OUTPUT
                    ? new OutputLane(device, v.port(), "driver " + b.name + " of " + b.origin, deliveryPool,
                            settings.queueCapacity(), settings.inlineLimitNanos())
                    : null;
            Entry e = new Entry(device, v.port(), b, v.key(), lane);
            byId.put(id, e);
            added.add(e);
        }
        if (idsUnsaved && !added.isEmpty()) {
            try {
                idStore.save(ids);
                idsUnsaved = false;
            } catch (UncheckedIOException e) {
                LOG.error("device ids could not be stored, next change tries again: {}", e.getMessage());
            }
        }
        Delta delta = new Delta(removed, added);
        if (delta.changed()) {
            snapshot.set(Snapshot.of(byId));
            if (LOG.isDebugEnabled()) {
                LOG.debug("driver {}: devices added {}, removed {}", b.name, added.stream().map(Entry::device).toList(),
                        removed.stream().map(Entry::device).toList());
            }
        }
        return delta;
    }

    /**
     * Unhooks removed inputs first, then hooks added ones, so a port moved to another key keeps a sink. Closes the
     * lanes of removed outputs.
     */
    private void applySinks(Delta delta) {
        assert !lock.isHeldByCurrentThread() : "ports must be called without the registry lock";
        for (Entry e : delta.removed()) {
            if (e.lane() != null) {
                e.lane().close();
            }
            setSink(e, null);
        }
        for (Entry e : delta.added()) {
            setSink(e, new Sink(e));
        }
    }

    private static void setSink(Entry e, InputSink sink) {
        if (e.device().type() != DeviceType.INPUT) {
            return;
        }
        try {
            e.port().setInputSink(sink);
        } catch (Throwable t) {
            LOG.error("port {} of driver {} ({}) failed to take its input sink", e.device().name(), e.binding().name,
                    e.binding().origin, t);
        }
    }

    /** Keeps {@code id} for the first port of that direction named like the node's default port, if still free. */
    private void reserve(DeviceType type, int id) {
        if (!usedIds.get(id)) {
            reservedIds.put(type, id);
            usedIds.set(id);
        }
    }

    /** The reserved id for this port, taken from the reservations; 0 when none applies. Under the lock. */
    private int reservedFor(PortView v) {
        String defaultName = node.name() + (v.type() == DeviceType.INPUT ? " In" : " Out");
        if (!v.name().equals(defaultName)) {
            return 0;
        }
        Integer id = reservedIds.remove(v.type());
        return id == null ? 0 : id;
    }

    static String key(String driver, DeviceType type, String name) {
        return driver + "/" + type.wireName() + "/" + name;
    }

    // ---- listeners ---------------------------------------------------------------------------------------------

    @Reference(name = "listener", service = DeviceListener.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, unbind = "unbindListener")
    void bindListener(DeviceListener listener) {
        listeners.add(new ListenerSlot(listener));
    }

    void unbindListener(DeviceListener listener) {
        listeners.removeIf(s -> s.listener == listener);
    }

    private void fireDevicesChanged() {
        assert !lock.isHeldByCurrentThread() : "device listeners must be called without the registry lock";
        // The newest snapshot, not the one of this change: a later change may already be out.
        List<LocalDevice> devices = snapshot.get().devices();
        for (ListenerSlot s : listeners) {
            try {
                s.listener.devicesChanged(devices);
            } catch (Throwable t) {
                s.failed("devicesChanged", t);
            }
        }
    }

    private void fireInputProduced(LocalDevice input, List<MidiMessage> messages, long timestampMicros) {
        assert !lock.isHeldByCurrentThread() : "device listeners must be called without the registry lock";
        for (ListenerSlot s : listeners) {
            try {
                s.listener.inputProduced(input, messages, timestampMicros);
            } catch (Throwable t) {
                s.failed("inputProduced", t);
            }
        }
    }

    // ---- DeviceRegistry ----------------------------------------------------------------------------------------

    /** Never blocks. */
    @Override
    public List<LocalDevice> devices() {
        return snapshot.get().devices();
    }

    @Override
    public Optional<LocalDevice> find(int id) {
        Entry e = snapshot.get().byId().get(id);
        return e == null ? Optional.empty() : Optional.of(e.device());
    }

    @Override
    public Optional<MidiPort> port(int id) {
        Entry e = snapshot.get().byId().get(id);
        return e == null ? Optional.empty() : Optional.of(e.port());
    }

    /** Never blocks; calls the port's {@code availability()}, which the SPI says returns at once. */
    @Override
    public Optional<DeviceStatus> status(int id) {
        Entry e = snapshot.get().byId().get(id);
        if (e == null) {
            return Optional.empty();
        }
        Availability own = portAvailability(e);
        if (e.lane() == null) {
            return Optional.of(new DeviceStatus(own.available(), own.reason(), 0, 0, 0, 0));
        }
        return Optional.of(e.lane().status(own));
    }

    private static Availability portAvailability(Entry e) {
        try {
            Availability a = e.port().availability();
            return a == null ? Availability.unavailable("the driver tells nothing about the port") : a;
        } catch (Throwable t) {
            LOG.debug("port {} of driver {} ({}) failed to tell its availability", e.device().name(),
                    e.binding().name, e.binding().origin, t);
            return Availability.unavailable("the driver failed to tell: " + t);
        }
    }

    /**
     * On an input: every {@link DeviceListener} gets the messages on this thread, as if the device had produced them.
     * On an output: played with this node as the source.
     *
     * @throws NoSuchElementException   when there is no device with that id
     * @throws IllegalArgumentException when the list or one of its messages is missing
     */
    @Override
    public void send(int id, List<MidiMessage> messages) {
        List<MidiMessage> batch = checked(messages);
        Entry e = entry(id);
        if (batch.isEmpty()) {
            return;
        }
        if (e.device().type() == DeviceType.INPUT) {
            fireInputProduced(e.device(), batch, nowMicros());
        } else {
            e.lane().offer(batch, node.id());
        }
    }

    /**
     * @throws NoSuchElementException   when there is no device with that id
     * @throws IllegalArgumentException when the device is an input, or the list, a message or the source is missing
     */
    @Override
    public void play(int outputId, List<MidiMessage> messages, NodeId source) {
        if (source == null) {
            throw new IllegalArgumentException("source is missing");
        }
        List<MidiMessage> batch = checked(messages);
        Entry e = entry(outputId);
        if (e.device().type() != DeviceType.OUTPUT) {
            throw new IllegalArgumentException("device " + outputId + " is an input; only outputs play");
        }
        if (!batch.isEmpty()) {
            e.lane().offer(batch, source);
        }
    }

    private static long nowMicros() {
        return Micros.now();
    }

    private Entry entry(int id) {
        Entry e = snapshot.get().byId().get(id);
        if (e == null) {
            throw new NoSuchElementException("no local device with id " + id);
        }
        return e;
    }

    private static List<MidiMessage> checked(List<MidiMessage> messages) {
        if (messages == null) {
            throw new IllegalArgumentException("messages is missing");
        }
        for (int i = 0; i < messages.size(); i++) {
            if (messages.get(i) == null) {
                throw new IllegalArgumentException("messages[" + i + "] is missing");
            }
        }
        return List.copyOf(messages);
    }

    // ---- types -------------------------------------------------------------------------------------------------

    /** A bound driver under the name it had when bound, and where it came from. Compared by identity. */
    private static final class Binding {
        final MidiDriver driver;
        final String name;
        final String origin;

        Binding(MidiDriver driver, String name, String origin) {
            this.driver = driver;
            this.name = name;
            this.origin = origin;
        }
    }

    /** A port as read from its driver, outside the lock. */
    private record PortView(MidiPort port, String name, DeviceType type, String key) {
    }

    /**
     * A registered device; {@code lane} delivers to an output (null for an input). Compared by identity where it
     * matters (a new entry replaces a port).
     */
    private record Entry(LocalDevice device, MidiPort port, Binding binding, String key, OutputLane lane) {
    }

    /** Immutable: the devices by id. */
    private record Snapshot(List<LocalDevice> devices, NavigableMap<Integer, Entry> byId) {
        static final Snapshot EMPTY = new Snapshot(List.of(), Collections.emptyNavigableMap());

        /** Takes ownership of {@code byId}, which the caller must not change afterwards. */
        static Snapshot of(TreeMap<Integer, Entry> byId) {
            return new Snapshot(byId.values().stream().map(Entry::device).toList(),
                    Collections.unmodifiableNavigableMap(byId));
        }
    }

    /** What one change did, for the work done after the lock is released. */
    private record Delta(List<Entry> removed, List<Entry> added) {
        static final Delta NONE = new Delta(List.of(), List.of());

        boolean changed() {
            return !removed.isEmpty() || !added.isEmpty();
        }
    }

    /**
     * Where a registered input delivers what it produces: to every listener, on the port's thread. A sink left on a
     * port that is no longer registered (a late or out-of-order set) delivers nothing.
     */
    private final class Sink implements InputSink {
        private final Entry entry;

        Sink(Entry entry) {
            this.entry = entry;
        }

        @Override
        public void produced(MidiPort port, List<MidiMessage> messages) {
            produced(port, messages, nowMicros());
        }

        @Override
        public void produced(MidiPort port, List<MidiMessage> messages, long timestampMicros) {
            if (snapshot.get().byId().get(entry.device().id()) != entry) {
                LOG.trace("dropping messages from {}: no longer registered", entry.device());
                return;
            }
            List<MidiMessage> batch = checked(messages);
            if (!batch.isEmpty()) {
                fireInputProduced(entry.device(), batch, timestampMicros);
            }
        }

        @Override
        public String toString() {
            return "sink of device " + entry.device().id();
        }
    }

    /** A whiteboard listener with its failure count, so that a listener failing on every message logs once. */
    private static final class ListenerSlot {
        final DeviceListener listener;
        // Incremented by whichever thread saw the failure; read only by that thread's increment result.
        final AtomicLong failures = new AtomicLong();

        ListenerSlot(DeviceListener listener) {
            this.listener = listener;
        }

        void failed(String method, Throwable t) {
            long n = failures.incrementAndGet();
            if (n == 1) {
                LOG.error("device listener {} failed in {}; further failures are logged at DEBUG", listener, method,
                        t);
            } else {
                LOG.debug("device listener {} failed in {} ({} failures)", listener, method, n, t);
            }
        }
    }
}
