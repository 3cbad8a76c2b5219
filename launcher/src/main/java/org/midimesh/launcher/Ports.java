package org.midimesh.launcher;

import java.io.IOException;
import java.net.BindException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * Checks the listener ports before anything starts, and picks free ones where 0 was asked for. Runs on the main
 * thread only.
 */
final class Ports {

    /** A port cannot be had; the message names it. */
    static final class PortException extends Exception {
        private static final long serialVersionUID = 1L;

        PortException(String message) {
            super(message);
        }
    }

    private Ports() {
    }

    /** The TCP port to use: {@code port} if it is free, a free one if 0. */
    static int tcp(InetAddress bind, int port, String what) throws PortException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(bind, port));
            return s.getLocalPort();
        } catch (BindException e) {
            throw new PortException(what + " port " + port + " is already in use on " + bind.getHostAddress());
        } catch (IOException e) {
            throw new PortException("cannot bind " + what + " port " + port + ": " + e.getMessage());
        }
    }

    /** The UDP port to use: {@code port} if it is free, a free one if 0. */
    static int udp(InetAddress bind, int port, String what) throws PortException {
        try (DatagramSocket s = new DatagramSocket(null)) {
            s.bind(new InetSocketAddress(bind, port));
            return s.getLocalPort();
        } catch (BindException e) {
            throw new PortException(what + " port " + port + " is already in use on " + bind.getHostAddress());
        } catch (IOException e) {
            throw new PortException("cannot bind " + what + " port " + port + ": " + e.getMessage());
        }
    }
}
