package org.midimesh.connection.mutex.internal;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

import org.midimesh.api.DeviceInfo;
import org.midimesh.api.connection.ConnectionListener;
import org.midimesh.api.connection.ConnectionState;
import org.midimesh.api.connection.NetworkConnection;

/**
 * Records every callback as text ("CONNECTING>CONNECTED", "error:...", "devices:2") with the thread it ran on and
 * whether that thread held the connection lock.
 */
final class RecordingListener implements ConnectionListener {

    record Call(String what, String thread, boolean lockHeld) {
    }

    final CopyOnWriteArrayList<Call> calls = new CopyOnWriteArrayList<>();

    @Override
    public void stateChanged(NetworkConnection connection, ConnectionState from, ConnectionState to) {
        record(connection, from + ">" + to);
    }

    @Override
    public void error(NetworkConnection connection, String message) {
        record(connection, "error:" + message);
    }

    @Override
    public void devicesChanged(NetworkConnection connection, List<DeviceInfo> devices) {
        record(connection, "devices:" + devices.size());
    }

    private void record(NetworkConnection connection, String what) {
        calls.add(new Call(what, Thread.currentThread().getName(),
                ((MutexNetworkConnection) connection).isLockHeldByCurrentThread()));
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
