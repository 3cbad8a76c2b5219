package org.midimesh.itests.osgi;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.midimesh.api.devices.DeviceRegistry;
import org.midimesh.api.devices.DeviceStatus;
import org.midimesh.api.devices.LocalDevice;
import org.midimesh.api.driver.MidiDriver;
import org.midimesh.api.driver.MidiPort;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.ops4j.pax.exam.util.Filter;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.wiring.BundleWire;
import org.osgi.framework.wiring.BundleWiring;
import org.osgi.framework.wiring.BundleRevision;

/**
 * The javasound driver in a node inside Felix, on the JDK that runs the build (headless here: only the software
 * synthesizer, which cannot open without an audio line, and the sequencer, which is not a port). The bundle resolves
 * javax.sound.midi from the system bundle and starts; whatever ports it lists appear in the device registry under
 * driver "javasound", an unavailable one with its reason; and the node stays healthy.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class JavaSoundDriverOsgiIT {

    private static final String BSN = "org.midimesh.driver-javasound";
    private static final Duration SETTLE = Duration.ofSeconds(30);
    /** The first scan runs at activation; this leaves it room on a slow machine. */
    private static final Duration FIRST_SCAN = Duration.ofSeconds(10);

    @Inject
    private BundleContext context;

    @Inject
    @Filter(value = "(driver=javasound)", timeout = 30_000)
    private MidiDriver javasound;

    @Inject
    @Filter(timeout = 30_000)
    private DeviceRegistry registry;

    @Configuration
    public Option[] config() {
        return MidiMeshOsgiOptions.node("JavaSoundDriverOsgiIT");
    }

    @Test(timeout = 60_000)
    public void theBundleIsActiveAndTakesJavaxSoundMidiFromTheSystemBundle() {
        Bundle bundle = null;
        for (Bundle b : context.getBundles()) {
            if (BSN.equals(b.getSymbolicName())) {
                bundle = b;
            }
        }
        assertNotNull(BSN + " is installed", bundle);
        assertEquals(BSN + " state", Bundle.ACTIVE, bundle.getState());
        assertEquals("driver name", "javasound", javasound.name());
        BundleWiring wiring = bundle.adapt(BundleWiring.class);
        Long provider = null;
        for (BundleWire w : wiring.getRequiredWires(BundleRevision.PACKAGE_NAMESPACE)) {
            if ("javax.sound.midi".equals(w.getCapability().getAttributes().get(BundleRevision.PACKAGE_NAMESPACE))) {
                provider = w.getProvider().getBundle().getBundleId();
            }
        }
        assertEquals("bundle id of the javax.sound.midi exporter", Long.valueOf(0), provider);
    }

    @Test(timeout = 90_000)
    public void itsPortsAppearInTheRegistryAndUnavailableOnesCarryAReason() throws Exception {
        List<MidiPort> ports = awaitFirstScan();
        List<String> seen = new ArrayList<>();
        for (MidiPort p : ports) {
            LocalDevice device = Poll.until("the registry lists " + p, SETTLE, () -> find(p), Optional::isPresent)
                    .get();
            assertEquals("driver of " + device, "javasound", device.driver());
            DeviceStatus status = Poll.until("the registry has a status for " + device, SETTLE,
                    () -> registry.status(device.id()), Optional::isPresent).get();
            if (!p.availability().available()) {
                assertFalse("an unavailable port is unavailable in the registry: " + status, status.available());
                assertFalse("an unavailable device carries a reason: " + status, status.reason().isBlank());
            }
            seen.add(device + " " + status);
        }
        System.err.println("JavaSoundDriverOsgiIT: javasound devices in the registry: " + seen);
    }

    @Test(timeout = 90_000)
    public void theNodeStaysHealthy() throws Exception {
        awaitFirstScan();
        int port = Integer.parseInt(context.getProperty(MidiMeshOsgiOptions.HTTP_PORT));
        LoopbackHttp http = new LoopbackHttp(port);
        LoopbackHttp.Response r = Poll.until("GET /health answers 200 \"up\" with the javasound driver running",
                SETTLE, () -> http.get("/health"),
                x -> x.status() == 200 && "up".equals(x.json().path("status").asText()));
        assertTrue("checks in " + r.body(), r.json().path("checks").isObject());
    }

    /**
     * The driver's ports once its first scan is in: the JDK always has its software synthesizer unless it was
     * built without java.desktop's MIDI providers, so an empty list after {@link #FIRST_SCAN} means there is none.
     */
    private List<MidiPort> awaitFirstScan() throws InterruptedException {
        try {
            return Poll.until("the javasound driver lists a port", FIRST_SCAN, javasound::ports, l -> !l.isEmpty());
        } catch (AssertionError e) {
            System.err.println("JavaSoundDriverOsgiIT: this JDK has no javax.sound.midi ports: " + e.getMessage());
            return javasound.ports();
        }
    }

    private Optional<LocalDevice> find(MidiPort p) {
        return registry.devices().stream()
                .filter(d -> d.driver().equals("javasound") && d.name().equals(p.name()) && d.type() == p.type())
                .findFirst();
    }
}
