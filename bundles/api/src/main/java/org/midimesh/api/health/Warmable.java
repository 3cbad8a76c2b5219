package org.midimesh.api.health;

import java.time.Duration;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A part of the MIDI path that can run its own code before the node says it is ready, so that the JIT has compiled
 * that code before the first note instead of during it. On a fresh node without this, the first seconds of MIDI
 * arrive 10 to 50 ms late while the compiler catches up (docs/benchmarks.md, "Warm-up").
 * <p>The node calls {@link #warmUp} once, on its own warm-up thread, after the part is active and before the ready
 * line. The service object of a part implements this interface next to its service interface; the node asks the
 * parts it waits for anyway ({@code instanceof}), so a part without a warm-up is simply not asked.
 */
@ConsumerType
public interface Warmable {

    /**
     * Runs this part's path on private objects of its own: never live state, never a peer, a device or a file, and
     * nothing in any statistic or log a user reads (one DEBUG line at most). Returns within about {@code budget}, and
     * at once when the calling thread is interrupted (the node is stopping). Never throws: a warm-up that fails is
     * logged and the node goes on, only less warm.
     *
     * @param budget how long it may take at most
     * @return what it did, for the node's log line, for example {@code "12000 datagrams"}
     */
    String warmUp(Duration budget);
}
