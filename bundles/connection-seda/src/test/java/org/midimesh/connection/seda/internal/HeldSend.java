package org.midimesh.connection.seda.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.midimesh.api.test.contract.RecordingPeerLink;
import org.midimesh.api.transport.DataFrame;

/**
 * A send held inside a gated {@link RecordingPeerLink}, made from a thread of its own. With the hot path a send to an
 * idle engine runs on its caller, so the caller is the one the gate holds: tests that build a backlog behind a held
 * send must not be that caller. The held thread owns the engine's mailbox until the gate opens, as a worker stuck in
 * the link did before.
 */
final class HeldSend {

    /** The name of the thread that sends. */
    static final String THREAD = "test-held-sender";

    private HeldSend() {
    }

    /**
     * Waits until the engine's mailbox is idle (so the send takes the hot path when it is on: a worker that still holds
     * the token after its last command would otherwise take the frame), closes the gate, sends {@code frame} from a new
     * thread and waits until that send is inside the link.
     *
     * @return completes with the send's result once the gate opens
     */
    static CompletableFuture<Boolean> hold(SedaConnectionEngine engine, RecordingPeerLink link, DataFrame frame)
            throws InterruptedException {
        Wait.await().until(() -> engine.mailbox().isIdle());
        link.closeGate();
        CompletableFuture<Boolean> sent = CompletableFuture.supplyAsync(() -> engine.send(frame), r -> {
            Thread t = new Thread(r, THREAD);
            t.setDaemon(true);
            t.start();
        });
        assertTrue(link.awaitBlocked(10, TimeUnit.SECONDS), "the send is inside the link");
        return sent;
    }
}
