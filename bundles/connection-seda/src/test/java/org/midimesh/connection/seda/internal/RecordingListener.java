package org.midimesh.connection.seda.internal;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.connection.ConnectionListener;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.NetworkConnection;

/** Records every callback as text ("CONNECTING>CONNECTED", "error:...", "devices:2") with the thread it ran on. */
final class RecordingListener implements ConnectionListener {

    record Call(String what, String thread) {
    }

    final CopyOnWriteArrayList<Call> calls = new CopyOnWriteArrayList<>();

    @Override
    public void stateChanged(NetworkConnection connection, ConnectionState from, ConnectionState to) {
        record(from + ">" + to);
    }

    @Override
    public void error(NetworkConnection connection, String message) {
        record("error:" + message);
    }

    @Override
    public void devicesChanged(NetworkConnection connection, List<DeviceInfo> devices) {
        record("devices:" + devices.size());
    }

    private void record(String what) {
        calls.add(new Call(what, Thread.currentThread().getName()));
    }

    List<String> whats() {
        return calls.stream().map(Call::what).collect(Collectors.toList());
    }

    List<String> states() {
        return calls.stream().map(Call::what).filter(w -> w.contains(">")).collect(Collectors.toList());
    }

    List<String> errors() {
        return calls.stream().map(Call::what).filter(w -> w.startsWith("error:")).collect(Collectors.toList());
    }
}
