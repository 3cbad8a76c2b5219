package org.midimesh.connection.seda.internal;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;

import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.PeerLink;
import org.midimesh.api.transport.DataFrame;

/**
 * Records what would have been sent, and on which thread. With {@link #closeGate()} the next {@code sendData} blocks
 * (holding the connection's worker) until {@link #openGate()}; {@link #blocked} counts down once it is inside.
 */
final class RecordingLink implements PeerLink {

    record Sent(NodeInfo peer, DataFrame frame, String thread) {
    }

    final CopyOnWriteArrayList<Sent> data = new CopyOnWriteArrayList<>();
    final CopyOnWriteArrayList<NodeInfo> heartbeats = new CopyOnWriteArrayList<>();
    final CopyOnWriteArrayList<NodeInfo> goodbyes = new CopyOnWriteArrayList<>();
    // Set by the test thread, read by workers.
    private volatile CountDownLatch gate;
    volatile CountDownLatch blocked = new CountDownLatch(1);

    void closeGate() {
        blocked = new CountDownLatch(1);
        gate = new CountDownLatch(1);
    }

    void openGate() {
        CountDownLatch g = gate;
        gate = null;
        if (g != null) {
            g.countDown();
        }
    }

    @Override
    public void sendData(NodeInfo peer, DataFrame frame) {
        data.add(new Sent(peer, frame, Thread.currentThread().getName()));
        CountDownLatch g = gate;
        if (g != null) {
            blocked.countDown();
            try {
                g.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void sendHeartbeat(NodeInfo peer) {
        heartbeats.add(peer);
    }

    @Override
    public void sendGoodbye(NodeInfo peer) {
        goodbyes.add(peer);
    }

    /** The sequence numbers ({@link TestData#seq}) of the frames sent, in order. */
    List<Integer> seqs() {
        return data.stream().map(s -> TestData.seq(s.frame())).collect(Collectors.toList());
    }
}
