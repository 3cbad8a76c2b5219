package org.midimesh.common;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.api.DeviceInfo;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.strategy.spi.EngineEvents;

@Timeout(10)
class EngineEventTest {

    /** Writes down every call, in order. */
    private static final class Recorder implements EngineEvents {
        final List<String> calls = new ArrayList<>();

        @Override
        public void stateChanged(ConnectionState from, ConnectionState to) {
            calls.add("state " + from + "->" + to);
        }

        @Override
        public void error(String message) {
            calls.add("error " + message);
        }

        @Override
        public void devicesChanged(List<DeviceInfo> devices) {
            calls.add("devices " + devices.size());
        }
    }

    @Test
    void eachEventCallsExactlyItsOwnSinkMethod() {
        Recorder r = new Recorder();
        new EngineEvent.StateEvent(ConnectionState.CONNECTING, ConnectionState.CONNECTED).deliverTo(r);
        new EngineEvent.ErrorEvent("handshake refused").deliverTo(r);
        new EngineEvent.DevicesEvent(List.of()).deliverTo(r);
        assertEquals(List.of("state CONNECTING->CONNECTED", "error handshake refused", "devices 0"), r.calls);
    }
}
