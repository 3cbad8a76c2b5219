package org.midimesh.mesh.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(id = MeshConfig.PID, name = "MidiMesh mesh", description = "Peers, handshakes and reconnection")
public @interface MeshConfig {

    String PID = "org.midimesh.mesh";

    /** Keep equal to timeout.ms of PID org.midimesh.heartbeat, which counts timeouts with its own value. */
    @AttributeDefinition(name = "Heartbeat timeout (ms)", description = "Silence after which a connected peer fails")
    long timeout_ms() default 3000;

    @AttributeDefinition(name = "First reconnect delay (ms)", description = "Doubles on each failure")
    long reconnect_initial_ms() default 500;

    @AttributeDefinition(name = "Longest reconnect delay (ms)")
    long reconnect_max_ms() default 4000;

    @AttributeDefinition(name = "Handshake connect timeout (ms)")
    long handshake_connect_timeout_ms() default 2000;

    @AttributeDefinition(name = "Handshake request timeout (ms)")
    long handshake_timeout_ms() default 5000;

    @AttributeDefinition(name = "Device announce delay (ms)",
            description = "Local device changes are sent to peers this long after the last change")
    long announce_delay_ms() default 200;
}
