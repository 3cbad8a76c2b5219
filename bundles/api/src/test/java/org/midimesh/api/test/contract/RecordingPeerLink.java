package org.midimesh.api.test.contract;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.midimesh.api.NodeInfo;
import org.midimesh.api.connection.PeerLink;
import org.midimesh.api.transport.DataFrame;

/**
 * A {@link PeerLink} that records what would have been sent, in the order the calls arrived. Optionally (see
 * {@link #checkingLocks()}) it records every call made while the calling thread held a lock: peer sends must never
 * happen under a lock. After {@link #closeGate()}, every {@code sendData} records its frame and then blocks (holding
 * the thread that sends, e.g. a connection's worker) until {@link #openGate()}: so a test can stall the sending side at
 * a known point. Thread-safe.
 */
public final class RecordingPeerLink implements PeerLink {

    /** One data frame handed to the link. */
    public record Sent(NodeInfo peer, DataFrame frame, String thread) {
    }

    private final boolean checkLocks;
    private final ConcurrentLinkedQueue<Sent> data = new ConcurrentLinkedQueue<>();
    private final AtomicInteger dataCount = new AtomicInteger();
    private final ConcurrentLinkedQueue<NodeInfo> heartbeats = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<NodeInfo> goodbyes = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> lockViolations = new ConcurrentLinkedQueue<>();
    // Both replaced by the test thread in closeGate() and read by sending threads; the volatile writes publish each
    // new latch before a sender can see it (gate is written last, so a sender that sees it also sees its blocked).
    private volatile CountDownLatch blocked = new CountDownLatch(1);
    private volatile CountDownLatch gate;

    public RecordingPeerLink() {
        this(false);
    }

    private RecordingPeerLink(boolean checkLocks) {
        this.checkLocks = checkLocks;
    }

    /** A link that also checks, on every call, that the calling thread holds no lock (slow: tests only). */
    public static RecordingPeerLink checkingLocks() {
        return new RecordingPeerLink(true);
    }

    @Override
    public void sendData(NodeInfo peer, DataFrame frame) {
        check("sendData");
        data.add(new Sent(peer, frame, Thread.currentThread().getName()));
        dataCount.incrementAndGet();
        CountDownLatch g = gate;
        if (g != null) {
            blocked.countDown();
            try {
                g.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // give up the wait: an interrupted sender is being stopped
            }
        }
    }

    @Override
    public void sendHeartbeat(NodeInfo peer) {
        check("sendHeartbeat");
        heartbeats.add(peer);
    }

    @Override
    public void sendGoodbye(NodeInfo peer) {
        check("sendGoodbye");
        goodbyes.add(peer);
    }

    /** Every data frame sent so far, in order. */
    public List<Sent> sent() {
        return List.copyOf(data);
    }

    /** The frames alone, in order. */
    public List<DataFrame> frames() {
        return data.stream().map(Sent::frame).toList();
    }

    /** The numbers {@link FakePeers#numberedFrame} put into the frames sent, in order. */
    public List<Integer> frameNumbers() {
        return data.stream().map(s -> FakePeers.numberOf(s.frame())).toList();
    }

    /** Number of data frames sent so far (cheap). */
    public int dataCount() {
        return dataCount.get();
    }

    public List<NodeInfo> heartbeats() {
        return List.copyOf(heartbeats);
    }

    public List<NodeInfo> goodbyes() {
        return List.copyOf(goodbyes);
    }

    /**
     * From now on every {@code sendData} blocks, after recording its frame, until {@link #openGate()}. Call it while
     * no {@code sendData} is running.
     */
    public void closeGate() {
        blocked = new CountDownLatch(1);
        gate = new CountDownLatch(1);
    }

    /** Lets every blocked and later {@code sendData} through. Idempotent; safe in an {@code @AfterEach}. */
    public void openGate() {
        CountDownLatch g = gate;
        gate = null;
        if (g != null) {
            g.countDown();
        }
    }

    /**
     * Waits until a {@code sendData} blocked at the gate closed last.
     *
     * @return false if none did within {@code timeout}
     */
    public boolean awaitBlocked(long timeout, TimeUnit unit) throws InterruptedException {
        return blocked.await(timeout, unit);
    }

    /** One line per call made while the calling thread held a lock (only with {@link #checkingLocks()}). */
    public List<String> lockViolations() {
        return List.copyOf(lockViolations);
    }

    private void check(String call) {
        if (checkLocks) {
            List<String> held = HeldLocks.ofCurrentThread();
            if (!held.isEmpty()) {
                lockViolations.add(call + " on " + Thread.currentThread().getName() + " holding " + held);
            }
        }
    }
}
