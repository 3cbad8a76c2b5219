package org.midimesh.driver.javasound.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import javax.sound.midi.MidiDevice;

import org.midimesh.api.driver.MidiDriver;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.driver.PortListener;
import org.midimesh.common.Micros;
import org.midimesh.common.PortListeners;
import org.midimesh.common.NamedThreadFactory;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code javasound} driver: the MIDI devices this JDK sees through {@code javax.sound.midi}
 * ({@code MidiSystem.getMidiDeviceInfo()}). A device with receivers is an output port, one with transmitters an input
 * port (a device can be both). Ports are named after the device ({@code MidiDevice.Info.getName()}, cleaned, at most
 * 128 characters), with {@code " #2"}, {@code " #3"}, ... for devices of the same name in the same direction, in the
 * order the JDK lists them; a port keeps its name for as long as its device is listed.
 * <p>Sequencers are not ports: they play sequences from files, they do not connect to anything, so they are skipped
 * (a debug log says so). A device that cannot be opened, such as the software synthesizer (Gervill) on a machine
 * without an audio line, is listed unavailable with the reason and tried again later (every retry doubles the delay,
 * up to a minute); it never fails the node.
 * <p>Threads: the one daemon thread {@value #THREAD_NAME} does every {@code javax.sound.midi} call that finds, opens
 * or closes devices: a scan at activation and then every {@code rescan.interval.ms} (PID {@value #PID}, default
 * {@value #DEFAULT_RESCAN_INTERVAL_MS}). It owns the device entries (confined to it), publishes the port list as an
 * immutable snapshot, and then tells the {@link PortListener}s of the ports that went and came, on itself, with no
 * lock held (the driver has no lock). {@link #ports()} reads the snapshot and never blocks. Outputs play on the
 * caller's thread; inputs deliver on the JDK's thread. Deactivation closes every device on the driver thread, then
 * stops it.
 * <p>The JDK finds its MIDI providers with {@code ServiceLoader}, through the thread context class loader; the driver
 * thread sets it to the system class loader around every scan (a bundle's loader would not see the JDK's class path
 * providers), and the JDK's own input threads, started by {@code open}, inherit it.
 */
@Component(immediate = true, service = MidiDriver.class, configurationPid = JavaSoundMidiDriver.PID,
        property = "driver=" + JavaSoundMidiDriver.NAME)
@Designate(ocd = JavaSoundMidiDriver.Config.class)
public final class JavaSoundMidiDriver implements MidiDriver {

    static final String NAME = "javasound";
    public static final String PID = "org.midimesh.driver.javasound";
    static final String THREAD_NAME = "midimesh-javasound";
    static final long DEFAULT_RESCAN_INTERVAL_MS = 2000;
    static final long MIN_RESCAN_INTERVAL_MS = 100;
    static final long SHUTDOWN_TIMEOUT_MS = 5000;

    private static final Logger LOG = LoggerFactory.getLogger(JavaSoundMidiDriver.class);

    @ObjectClassDefinition(id = PID, name = "MidiMesh javasound driver",
            description = "MIDI devices of the JDK (javax.sound.midi) as MidiMesh ports")
    public @interface Config {

        @AttributeDefinition(name = "Rescan interval (ms)", min = "" + MIN_RESCAN_INTERVAL_MS,
                description = "How often the driver asks the JDK which MIDI devices there are, so that devices "
                        + "plugged in later show up and unplugged ones go")
        long rescan_interval_ms() default DEFAULT_RESCAN_INTERVAL_MS;
    }

    private final MidiSystemAccess system;
    private final LongSupplier nanoTime;
    private final LongSupplier epochMicros;
    private final ScheduledThreadPoolExecutor executor;
    // Added and removed by any thread (the registry binding and unbinding the driver), cleared by the SCR thread at
    // deactivation, iterated by the driver thread when it tells of changes; the copy-on-write list publishes every
    // listener it holds, and an iteration sees the list as it was when it began.
    private final PortListeners listeners = new PortListeners(this);

    // The ports: an immutable list. Written by the driver thread (after each scan, and empty when it closes the
    // devices), read by anyone without a lock; the volatile write publishes the list and the (immutable) ports in it.
    private volatile List<MidiPort> ports = List.of();

    // The rescan interval in force. Written by the SCR thread (constructor, modified), read by the driver thread at
    // each scan (the base of the retry delay); the volatile write publishes the value.
    private volatile long intervalMs;

    // Only touched by the SCR thread (constructor, modified, deactivate), which DS serialises.
    private ScheduledFuture<?> scanTask;

    // Confined to the driver thread: the devices of the last scan, in the JDK's order.
    private List<DeviceEntry> entries = List.of();
    // Confined to the driver thread: whether the last scan failed (log a failing scan once, not every interval).
    private boolean scanFailing;

    @Activate
    public JavaSoundMidiDriver(Config config) {
        this(MidiSystemAccess.JDK, config, System::nanoTime, JavaSoundMidiDriver::nowEpochMicros);
    }

    /** For tests: fake devices and clocks. */
    JavaSoundMidiDriver(MidiSystemAccess system, Config config, LongSupplier nanoTime, LongSupplier epochMicros) {
        this.system = system;
        this.nanoTime = nanoTime;
        this.epochMicros = epochMicros;
        this.intervalMs = validate(config);
        this.executor = new ScheduledThreadPoolExecutor(1, new NamedThreadFactory(THREAD_NAME, false));
        this.executor.setRemoveOnCancelPolicy(true);
        this.executor.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
        this.scanTask = schedule(0);
        LOG.info("javasound driver activated, rescanning {} every {} ms", system, intervalMs);
    }

    @Modified
    void modified(Config config) {
        long ms = validate(config);
        intervalMs = ms;
        scanTask.cancel(false);
        scanTask = schedule(ms);
        LOG.info("javasound driver reconfigured, rescanning every {} ms", ms);
    }

    /** Closes every device the driver opened (on the driver thread), then stops the thread. */
    @Deactivate
    void deactivate() {
        listeners.clear();
        scanTask.cancel(false);
        executor.execute(() -> withProviderLoader(this::closeAll));
        executor.shutdown();
        try {
            if (!executor.awaitTermination(SHUTDOWN_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                LOG.error("thread {} did not close the MIDI devices within {} ms; interrupting it", THREAD_NAME,
                        SHUTDOWN_TIMEOUT_MS);
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
        LOG.info("javasound driver deactivated");
    }

    @Override
    public String name() {
        return NAME;
    }

    /** Immutable snapshot of the last scan; never blocks. */
    @Override
    public List<MidiPort> ports() {
        return ports;
    }

    @Override
    public void addPortListener(PortListener listener) {
        listeners.add(listener);
    }

    @Override
    public void removePortListener(PortListener listener) {
        listeners.remove(listener);
    }

    /** For tests: a scan now, on the driver thread; the future completes once the listeners have been told. */
    Future<?> rescan() {
        return executor.submit(() -> withProviderLoader(this::scan));
    }

    long intervalMs() {
        return intervalMs;
    }

    private ScheduledFuture<?> schedule(long initialDelayMs) {
        return executor.scheduleWithFixedDelay(() -> withProviderLoader(this::scan), initialDelayMs, intervalMs,
                TimeUnit.MILLISECONDS);
    }

    /**
     * On the driver thread: asks the JDK what there is, keeps the entries of devices still listed, closes those gone,
     * opens new ones (and retries those that failed, when due), publishes the ports and tells the listeners. Never
     * throws: a periodic task that throws is never run again.
     */
    private void scan() {
        List<MidiPort> before = ports;
        try {
            MidiDevice.Info[] infos = system.deviceInfo();
            List<DeviceEntry> next = match(infos == null ? new MidiDevice.Info[0] : infos);
            entries = next;
            assignNames(next);
            long now = nanoTime.getAsLong();
            long retryBase = TimeUnit.MILLISECONDS.toNanos(intervalMs);
            List<MidiPort> listed = new ArrayList<>();
            for (DeviceEntry e : next) {
                e.openIfDue(system, now, retryBase, epochMicros, nanoTime);
                listed.addAll(e.ports());
            }
            ports = List.copyOf(listed);
            if (scanFailing) {
                LOG.info("scanning the javax.sound.midi devices works again");
            }
            scanFailing = false;
        } catch (Throwable t) {
            if (!scanFailing) {
                LOG.error("scanning the javax.sound.midi devices failed; keeping the ports of the last scan", t);
            }
            scanFailing = true;
            return;
        }
        tell(before, ports);
    }

    /**
     * The entries for what the JDK lists now: the same entry for the same {@code MidiDevice.Info} object (the JDK's
     * providers keep it while the device stays), else for an equally described one that gives the same device object
     * (for a provider that makes new descriptions); a new entry for the rest. Entries no longer listed are closed.
     */
    private List<DeviceEntry> match(MidiDevice.Info[] infos) {
        List<DeviceEntry> unmatched = new ArrayList<>(entries);
        DeviceEntry[] matched = new DeviceEntry[infos.length];
        for (int i = 0; i < infos.length; i++) {
            for (DeviceEntry e : unmatched) {
                if (e.info == infos[i]) {
                    matched[i] = e;
                    unmatched.remove(e);
                    break;
                }
            }
        }
        for (int i = 0; i < infos.length; i++) {
            if (matched[i] != null || infos[i] == null) {
                continue;
            }
            for (DeviceEntry e : unmatched) {
                if (e.isDeviceOf(infos[i], system)) {
                    matched[i] = e;
                    unmatched.remove(e);
                    break;
                }
            }
        }
        for (DeviceEntry gone : unmatched) {
            LOG.info("javax.sound.midi device \"{}\" is gone", gone.label);
            gone.close();
        }
        List<DeviceEntry> next = new ArrayList<>(infos.length);
        for (int i = 0; i < infos.length; i++) {
            if (infos[i] == null) {
                continue;
            }
            DeviceEntry e = matched[i] != null ? matched[i] : new DeviceEntry(infos[i]);
            if (e.examine(system)) {
                next.add(e);
            }
        }
        return next;
    }

    /** Names the new ports: listed ones keep theirs, the others get the first free name in the JDK's order. */
    private static void assignNames(List<DeviceEntry> list) {
        Set<String> inputs = new HashSet<>();
        Set<String> outputs = new HashSet<>();
        for (DeviceEntry e : list) {
            if (e.inputName != null) {
                inputs.add(e.inputName);
            }
            if (e.outputName != null) {
                outputs.add(e.outputName);
            }
        }
        for (DeviceEntry e : list) {
            if (e.hasInput() && e.inputName == null) {
                e.inputName = PortNames.unique(e.label, inputs);
                inputs.add(e.inputName);
            }
            if (e.hasOutput() && e.outputName == null) {
                e.outputName = PortNames.unique(e.label, outputs);
                outputs.add(e.outputName);
            }
        }
    }

    /** On the driver thread, no lock held: removed ports first, then added ones (a replaced port is both). */
    private void tell(List<MidiPort> before, List<MidiPort> after) {
        Set<MidiPort> old = identitySet(before);
        Set<MidiPort> now = identitySet(after);
        for (MidiPort p : before) {
            if (!now.contains(p)) {
                listeners.removed(p);
            }
        }
        for (MidiPort p : after) {
            if (!old.contains(p)) {
                listeners.added(p);
            }
        }
    }


    /** On the driver thread, last: closes every device and empties the list (nobody is told: the driver is going). */
    private void closeAll() {
        for (DeviceEntry e : entries) {
            e.close();
        }
        entries = List.of();
        ports = List.of();
    }

    /** Runs {@code task} with the system class loader as context class loader, for the JDK's provider lookup. */
    private static void withProviderLoader(Runnable task) {
        Thread t = Thread.currentThread();
        ClassLoader previous = t.getContextClassLoader();
        t.setContextClassLoader(ClassLoader.getSystemClassLoader());
        try {
            task.run();
        } finally {
            t.setContextClassLoader(previous);
        }
    }

    private static Set<MidiPort> identitySet(List<MidiPort> list) {
        Set<MidiPort> s = Collections.newSetFromMap(new IdentityHashMap<>());
        s.addAll(list);
        return s;
    }

    private static long validate(Config config) {
        long ms = config.rescan_interval_ms();
        if (ms < MIN_RESCAN_INTERVAL_MS) {
            LOG.warn("rescan.interval.ms must be at least {}, not {}; using {}", MIN_RESCAN_INTERVAL_MS, ms,
                    DEFAULT_RESCAN_INTERVAL_MS);
            return DEFAULT_RESCAN_INTERVAL_MS;
        }
        return ms;
    }

    private static long nowEpochMicros() {
        return Micros.now();
    }
}
