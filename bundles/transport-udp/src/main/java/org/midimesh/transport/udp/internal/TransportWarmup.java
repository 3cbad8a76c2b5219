package org.midimesh.transport.udp.internal;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

import org.midimesh.api.NodeId;
import org.midimesh.api.NodeInfo;
import org.midimesh.api.transport.DataFrame;
import org.midimesh.api.transport.DatagramListener;
import org.midimesh.common.Warmups;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The warm-up of the datagram path ({@link UdpTransport#warmUp}): two private transports, bound to ephemeral ports of
 * 127.0.0.1 whatever the node's bind address and talking only to each other, and {@link Warmups#ROUNDS} data frames
 * from one to the other: sending, numbering, encoding, the socket, receiving, decoding, sequence checks, dispatch. At
 * most {@value #IN_FLIGHT} datagrams are ahead of what has arrived, far below what the receive buffer holds, so none
 * is lost. Both transports are closed at the end.
 * <p>The receiving one has three listeners of three classes, so the JIT compiles the dispatch to listeners for any
 * class (the node's own listeners are others); see {@link Warmups#strategy} for why that matters. Runs on the calling
 * thread and the receiving transport's receive thread; the count is a {@link LongAdder} (it publishes nothing else).
 */
final class TransportWarmup {

    private static final Logger LOG = LoggerFactory.getLogger(TransportWarmup.class);
    private static final String ADDRESS = "127.0.0.1";
    static final int IN_FLIGHT = 256;

    private TransportWarmup() {
    }

    static String run(Duration budget) {
        long deadline = Warmups.deadline(budget);
        UdpTransport from = null;
        UdpTransport to = null;
        try {
            from = UdpTransport.privateInstance(ADDRESS);
            to = UdpTransport.privateInstance(ADDRESS);
            LongAdder received = new LongAdder();
            to.addListener(new CountingA(received));
            to.addListener(new OtherB());
            to.addListener(new OtherC());
            from.start();
            to.start();
            UdpTransport sender = from;
            NodeInfo peer = new NodeInfo(to.localId(), "warm-up", "warm-up", ADDRESS, 1, to.boundPort(), 1, "0");
            List<DataFrame> frames = Warmups.frames(from.localId());
            int sent = Warmups.repeat(Warmups.ROUNDS, deadline, i -> {
                if (!Warmups.await(() -> i - received.sum() <= IN_FLIGHT, deadline, 50_000)) {
                    return false;
                }
                sender.sendData(peer, frames.get(i % frames.size()));
                return true;
            });
            Warmups.await(() -> received.sum() >= sent, deadline, 200_000);
            return sent + " datagrams, " + received.sum() + " received";
        } catch (RuntimeException e) {
            LOG.warn("warm-up failed; the first messages may be late", e);
            return "failed: " + e;
        } finally {
            if (from != null) {
                from.stop();
            }
            if (to != null) {
                to.stop();
            }
        }
    }

    /** Counts data frames. */
    private static final class CountingA implements DatagramListener {
        private final LongAdder received;

        CountingA(LongAdder received) {
            this.received = received;
        }

        @Override
        public void dataReceived(NodeId sender, DataFrame frame, long sequence, long sentAtMicros) {
            received.increment();
        }
    }

    /** Looks at the frame and does nothing: a second class at the dispatch. */
    private static final class OtherB implements DatagramListener {
        @Override
        public void dataReceived(NodeId sender, DataFrame frame, long sequence, long sentAtMicros) {
            if (frame.messages().isEmpty()) {
                throw new IllegalStateException("a data frame without messages");
            }
        }
    }

    /** Likewise: a third class. */
    private static final class OtherC implements DatagramListener {
        @Override
        public void dataReceived(NodeId sender, DataFrame frame, long sequence, long sentAtMicros) {
            if (frame.sourceDevice() < 1) {
                throw new IllegalStateException("a data frame from device " + frame.sourceDevice());
            }
        }
    }
}
