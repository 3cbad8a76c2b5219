package org.midimesh.node.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Settings of this node. The launcher writes them from the command line (see docs/cli.md). */
@ObjectClassDefinition(id = NodeConfig.PID, name = "MidiMesh node", description = "Identity, listeners and data dir")
public @interface NodeConfig {

    String PID = "org.midimesh.node";

    @AttributeDefinition(name = "Name", description = "Human name of this node; empty for the host name")
    String name() default "";

    @AttributeDefinition(name = "Node id", description = "Fixed node id (UUID); empty to use the one kept in the data dir")
    String node_id() default "";

    @AttributeDefinition(name = "Data dir", description = "Node id, routes, configuration, installed plugins")
    String data_dir() default "midimesh-data";

    @AttributeDefinition(name = "Bind address", description = "Address every listener binds to")
    String bind() default "0.0.0.0";

    @AttributeDefinition(name = "HTTP port", description = "HTTP API port, as bound")
    int http_port() default 7474;

    @AttributeDefinition(name = "UDP port", description = "Realtime MIDI datagram port")
    int udp_port() default 7475;

    @AttributeDefinition(name = "TCP port", description = "Reliable channel port")
    int tcp_port() default 7476;

    @AttributeDefinition(name = "Static peers", description = "host:port of peers to connect to")
    String[] peers() default {};

    @AttributeDefinition(name = "Discovery", description = "mdns or none")
    String discovery() default "mdns";

    @AttributeDefinition(name = "Strategy option", description = "The --strategy given on the command line, which "
            + "wins over the strategy settings kept in <data-dir>/etc at start; empty when none was given")
    String strategy() default "";

    @AttributeDefinition(name = "Admin token", description = "Token mutating admin endpoints require; empty for none",
            type = org.osgi.service.metatype.annotations.AttributeType.PASSWORD)
    String admin_token() default "";

    @AttributeDefinition(name = "Log level", description = "error, warn, info or debug")
    String log_level() default "info";
}
