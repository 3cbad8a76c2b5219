package org.midimesh.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(10)
class CommandLineTest {

    private static CommandLine.Result parse(String... args) {
        return CommandLine.parse(args, Map.of());
    }

    @Test
    void shouldUseTheDefaultsOfTheInterface() {
        Options o = ((CommandLine.Run) parse()).options();
        assertEquals(7474, o.httpPort());
        assertEquals(7475, o.udpPort());
        assertEquals(7476, o.tcpPort());
        assertEquals("0.0.0.0", o.bind());
        assertEquals("midimesh-data", o.dataDir());
        assertEquals("mdns", o.discovery());
        assertEquals("", o.strategy(), "no --strategy: the strategy manager's settings decide (else mutex)");
        assertEquals("info", o.logLevel());
        assertEquals("", o.adminToken());
        assertFalse(o.shell(), "the shell opens only when asked for");
    }

    @Test
    void shouldTakeEveryOptionInBothForms() {
        Options o = ((CommandLine.Run) parse("--http-port", "0", "--udp-port=9000", "--tcp-port", "9001", "--bind",
                "127.0.0.1", "--name", "Studio A", "--node-id", "550e8400e29b41d4a716446655440000", "--data-dir",
                "/tmp/d", "--peer", "127.0.0.1:7000", "--peer=host.local:7001", "--discovery", "none", "--strategy",
                "seda", "--admin-token", "s3cret", "--log-level", "debug", "--shell")).options();
        assertEquals(0, o.httpPort());
        assertEquals(9000, o.udpPort());
        assertEquals(9001, o.tcpPort());
        assertEquals("Studio A", o.name());
        assertEquals(List.of("127.0.0.1:7000", "host.local:7001"), o.peers());
        assertEquals("seda", o.strategy());
        assertEquals("s3cret", o.adminToken());
        assertEquals("debug", o.logLevel());
        assertTrue(o.shell());
    }

    @Test
    void shouldTakeTheTokenFromTheEnvironment() {
        Options o = ((CommandLine.Run) CommandLine.parse(new String[0], Map.of("MIDIMESH_ADMIN_TOKEN", "t")))
                .options();
        assertEquals("t", o.adminToken());
    }

    @ParameterizedTest
    @ValueSource(strings = {"--http-port=70000", "--http-port=-1", "--http-port=x", "--udp-port", "--bogus",
            "--discovery=bonjour", "--log-level=trace", "--node-id=123", "--peer=nohost", "--peer=host:0",
            "--peer=:7000", "--bind=999.1.1.1", "--name=", "--strategy=Mutex!", "--admin-token=",
            "--node-id=00000000-0000-0000-0000-000000000000", "--shell=yes"})
    void shouldRejectABadOptionWithAReason(String arg) {
        assertInstanceOf(CommandLine.Invalid.class, parse(arg.split(" ")));
    }

    @Test
    void shouldExitWith2AndUsageOnABadOption() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = Main.run(new String[] {"--http-port", "abc"}, Map.of(), new PrintStream(out),
                new PrintStream(err));
        assertEquals(2, code);
        String text = err.toString(StandardCharsets.UTF_8);
        assertTrue(text.startsWith("midimesh: --http-port must be a port number"), text);
        assertTrue(text.contains("usage:"), text);
        assertEquals("", out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void shouldPrintHelpAndVersion() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, Main.run(new String[] {"--help"}, Map.of(), new PrintStream(out), System.err));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("--peer HOST:HTTPPORT"));
        out.reset();
        assertEquals(0, Main.run(new String[] {"--version"}, Map.of(), new PrintStream(out), System.err));
        assertEquals("midimesh " + Main.VERSION + "\n", out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void shouldExitWith1NamingAPortInUse() throws Exception {
        try (ServerSocket busy = new ServerSocket()) {
            busy.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int code = Main.run(new String[] {"--bind", "127.0.0.1", "--http-port",
                    Integer.toString(busy.getLocalPort()), "--udp-port", "0", "--tcp-port", "0"}, Map.of(),
                    System.out, new PrintStream(err));
            assertEquals(1, code);
            assertTrue(err.toString(StandardCharsets.UTF_8).contains("port " + busy.getLocalPort()), err.toString());
        }
        try (DatagramSocket busy = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int code = Main.run(new String[] {"--bind", "127.0.0.1", "--http-port", "0", "--udp-port",
                    Integer.toString(busy.getLocalPort()), "--tcp-port", "0"}, Map.of(), System.out,
                    new PrintStream(err));
            assertEquals(1, code);
            assertTrue(err.toString(StandardCharsets.UTF_8).contains("udp port " + busy.getLocalPort()));
        }
    }
}
