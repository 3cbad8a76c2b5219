package org.midimesh.example.clock;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.midimesh.api.driver.MidiDriver;
import org.midimesh.api.driver.MidiPort;
import org.midimesh.api.driver.PortListener;
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
 * The clock driver {@value #NAME}: one input port, {@code Clock}, that produces MIDI clock at the configured tempo.
 * Configuration PID {@value #PID} ({@code <data-dir>/etc/org.midimesh.example.clock.cfg} in a node); changes apply
 * while it runs ({@link Modified}), without a restart.
 * <p>Threads: SCR's and ConfigAdmin's threads activate, modify and deactivate it; the device registry calls
 * {@link #ports()} and the listener methods from its threads; the clock thread ({@link ClockRunner}) produces. The port
 * list never changes while the component is active, so the listeners are kept but never called. Thread-safe.
 */
@Component(immediate = true, service = MidiDriver.class, configurationPid = ClockDriver.PID,
        property = "driver=" + ClockDriver.NAME)
@Designate(ocd = ClockDriver.Config.class)
public final class ClockDriver implements MidiDriver {

    static final String NAME = "clock";
    static final String PID = "org.midimesh.example.clock";

    private static final Logger LOG = LoggerFactory.getLogger(ClockDriver.class);
    private static final long STOP_TIMEOUT_MS = 2_000;

    @ObjectClassDefinition(name = "MidiMesh example clock", description = "A MIDI clock generator: 0xF8 at 24 per"
            + " quarter note, 0xFA when it starts, 0xFC when it stops.")
    public @interface Config {

        @AttributeDefinition(name = "Tempo", description = "Quarter notes per minute (20..300); a value out of range"
                + " is taken as the nearest limit.", min = "20", max = "300")
        double bpm() default Settings.DEFAULT_BPM;

        @AttributeDefinition(name = "Running", description = "true: send start, then ticks; false: send stop, then"
                + " nothing.")
        boolean running() default true;
    }

    private final ClockRunner runner;
    private final List<MidiPort> ports;
    private final CopyOnWriteArrayList<PortListener> listeners = new CopyOnWriteArrayList<>();

    @Activate
    public ClockDriver(Config config) {
        Settings s = settings(config);
        this.runner = new ClockRunner(s);
        this.ports = List.of(runner.port());
        runner.start();
        LOG.info("clock driver activated: {} BPM, {}", s.bpm(), s.running() ? "running" : "stopped");
    }

    @Modified
    void modified(Config config) {
        Settings s = settings(config);
        runner.update(s);
        LOG.info("clock set to {} BPM, {}", s.bpm(), s.running() ? "running" : "stopped");
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        listeners.clear();
        runner.stop(STOP_TIMEOUT_MS);
        LOG.info("clock driver deactivated");
    }

    private static Settings settings(Config config) {
        Settings s = Settings.of(config.bpm(), config.running());
        if (Double.compare(s.bpm(), config.bpm()) != 0) {
            LOG.warn("{}: bpm {} is not in {}..{}; using {}", PID, config.bpm(), Settings.MIN_BPM, Settings.MAX_BPM,
                    s.bpm());
        }
        return s;
    }

    @Override
    public String name() {
        return NAME;
    }

    /** The one port; never blocks. */
    @Override
    public List<MidiPort> ports() {
        return ports;
    }

    @Override
    public void addPortListener(PortListener listener) {
        listeners.addIfAbsent(listener);
    }

    @Override
    public void removePortListener(PortListener listener) {
        listeners.remove(listener);
    }
}
