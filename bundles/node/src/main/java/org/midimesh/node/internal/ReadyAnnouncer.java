package org.midimesh.node.internal;

import java.util.Hashtable;

import org.midimesh.api.LocalNode;
import org.midimesh.api.devices.DeviceRegistry;
import org.midimesh.api.mesh.Mesh;
import org.midimesh.api.routing.RoutingService;
import org.midimesh.api.strategy.StrategyControl;
import org.midimesh.api.transport.TransportStats;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * Announces that the node's parts are all up: once the node, transport, devices, strategies, mesh and routing are
 * active it registers a marker service with property {@value #READY_PROPERTY}=true carrying the bound ports and the
 * default strategy. The launcher waits for it (and for /health) before printing the ready line. Activated and
 * deactivated on SCR threads.
 */
@Component(immediate = true, service = {})
public final class ReadyAnnouncer {

    public static final String READY_PROPERTY = "midimesh.ready";

    private final ServiceRegistration<Object> registration;

    @Activate
    public ReadyAnnouncer(BundleContext context, @Reference LocalNode node, @Reference TransportStats transport,
            @Reference Mesh mesh, @Reference DeviceRegistry devices, @Reference RoutingService routing,
            @Reference StrategyControl strategies) {
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(READY_PROPERTY, Boolean.TRUE);
        props.put("midimesh.name", node.name());
        props.put("midimesh.uuid", node.id().toString());
        props.put("midimesh.http", node.httpPort());
        props.put("midimesh.udp", transport.udpPort());
        props.put("midimesh.tcp", node.tcpPort());
        props.put("midimesh.strategy", strategies.status().defaultStrategy());
        props.put("midimesh.bind", node.bindAddress());
        this.registration = context.registerService(Object.class, new Object(), props);
    }

    @Deactivate
    void deactivate() {
        registration.unregister();
    }
}
