package org.midimesh.example.sync;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.awaitility.core.ConditionFactory;
import org.midimesh.api.NodeId;
import org.midimesh.api.connection.ConnectionContext;
import org.midimesh.api.strategy.spi.ConnectionEngine;
import org.midimesh.api.test.Configs;
import org.midimesh.api.test.contract.ControllableHandshaker;
import org.midimesh.api.test.contract.FakePeers;
import org.midimesh.api.test.contract.RecordingConnectionListener;
import org.midimesh.api.test.contract.RecordingPeerLink;

/**
 * What the sync unit tests share: strategies built with their constructor from a config map (keyed by the Config
 * method names; long values for long attributes, int for int), stopped after the test, and bounded waits. Used by
 * one test thread.
 */
final class SyncFixtures implements AutoCloseable {

    static final NodeId PEER = NodeId.parse("11111111-2222-3333-4444-555555555555");
    /** Hang guard for every wait on an asynchronous effect; never a speed limit. */
    static final Duration WAIT = Duration.ofSeconds(20);

    private final List<SyncConnectionStrategy> started = new ArrayList<>();
    private final List<ControllableHandshaker> handshakers = new ArrayList<>();

    static SyncConnectionStrategy.Config config(Map<String, Object> values) {
        return Configs.of(SyncConnectionStrategy.Config.class, values);
    }

    SyncConnectionStrategy start(Map<String, Object> values) {
        SyncConnectionStrategy s = new SyncConnectionStrategy(config(values));
        started.add(s);
        return s;
    }

    /** Polls every 2 ms from the start, for at most {@link #WAIT}. */
    static ConditionFactory waiting() {
        return await().atMost(WAIT).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(2));
    }

    ControllableHandshaker scripted() {
        ControllableHandshaker h = ControllableHandshaker.scripted();
        handshakers.add(h);
        return h;
    }

    ConnectionContext context(ControllableHandshaker h, RecordingPeerLink link) {
        return FakePeers.context(h, link);
    }

    /** A new engine made CONNECTED (one device) by an inbound handshake, whose event {@code l} has heard. */
    ConnectionEngine connected(SyncConnectionStrategy s, RecordingConnectionListener l, RecordingPeerLink link) {
        ConnectionEngine e = s.create(context(scripted(), link), l.asEngineEvents());
        e.handshakeCompleted(FakePeers.handshake(PEER, 1));
        waiting().until(() -> l.states().size() == 1 && l.deviceLists().size() == 1);
        return e;
    }

    ConnectionEngine connected(SyncConnectionStrategy s, RecordingConnectionListener l) {
        return connected(s, l, new RecordingPeerLink());
    }

    @Override
    public void close() {
        handshakers.forEach(ControllableHandshaker::shutdown);
        started.forEach(SyncConnectionStrategy::deactivate);
    }
}
