package org.midimesh.driver.virtual.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

import org.midimesh.api.NodeId;
import org.midimesh.api.virtual.ReceivedLog.Page;
import org.midimesh.api.virtual.ReceivedLog.Received;
import org.midimesh.api.midi.MidiMessage;

/**
 * Lock-free log of the newest {@code capacity} messages an output has played, numbered from 1.
 * <p>Any number of threads may append and read at the same time; no method blocks or takes a lock. An appender first
 * claims a block of sequence numbers, then publishes each entry into slot {@code seq % capacity}. A reader stops at the
 * first claimed entry that is not published yet, so a page never skips a message that a later page could still show;
 * it only loses messages that newer ones pushed out of the window.
 */
final class ReceivedRing {

    private final int capacity;

    // The highest sequence number claimed so far (= messages accepted). Written by appenders with getAndAdd, read by
    // readers. A claimed entry may not be in its slot yet; readers tell by the seq of what the slot holds.
    private final AtomicLong claimed = new AtomicLong();

    // Slot seq % capacity holds the newest published entry for that slot. Written by appenders with CAS, never
    // replacing a newer entry with an older one; read by readers. Entries are immutable records with final fields,
    // so a reader that sees an entry sees all of it.
    private final AtomicReferenceArray<Received> slots;

    ReceivedRing(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, not " + capacity);
        }
        this.capacity = capacity;
        this.slots = new AtomicReferenceArray<>(capacity);
    }

    int capacity() {
        return capacity;
    }

    /**
     * Appends the messages in order under consecutive sequence numbers. Lock-free; safe from any thread.
     * The claim is a volatile read-modify-write; each entry is published with a volatile CAS.
     */
    void append(List<MidiMessage> messages, NodeId source, long receivedAtMicros) {
        int n = messages.size();
        if (n == 0) {
            return;
        }
        long first = claimed.getAndAdd(n) + 1;
        // Entries of this batch beyond the window would only be overwritten by the rest of the batch.
        int skip = Math.max(0, n - capacity);
        for (int i = skip; i < n; i++) {
            publish(new Received(first + i, messages.get(i), receivedAtMicros, source));
        }
    }

    private void publish(Received entry) {
        int index = index(entry.seq());
        while (true) {
            Received current = slots.get(index);
            if (current != null && current.seq() > entry.seq()) {
                return; // a newer lap already took the slot: this entry is out of the window anyway
            }
            if (slots.compareAndSet(index, current, entry)) {
                return;
            }
        }
    }

    /**
     * Up to {@code limit} entries with a sequence number above {@code after}, oldest first. Lock-free.
     * {@code total} is every message accepted so far; {@code next} is the last returned seq, or {@code after} when
     * none is returned.
     *
     * @throws IllegalArgumentException when {@code after} or {@code limit} is negative
     */
    Page read(long after, int limit) {
        if (after < 0) {
            throw new IllegalArgumentException("after must be 0 or more, not " + after);
        }
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be 0 or more, not " + limit);
        }
        long last = claimed.get();
        if (after >= last || limit == 0) {
            return new Page(last, after, List.of());
        }
        long from = Math.max(after + 1, last - capacity + 1);
        long available = Math.max(0, last - from + 1);
        int max = (int) Math.min(Math.min(limit, capacity), available);
        List<Received> out = new ArrayList<>(max);
        for (long seq = from; seq <= last && out.size() < max; seq++) {
            Received r = slots.get(index(seq));
            if (r == null || r.seq() < seq) {
                break; // claimed but not published yet: stop here so that the next page starts with it
            }
            if (r.seq() == seq) {
                out.add(r);
            } else {
                // r.seq() > seq: writers lapped us and pushed seq out of the window while we read. Everything
                // collected so far is older still, so it is out of the window too: drop it, so that a page is always
                // a gap-free run of the newest messages, and go on with the next one.
                out.clear();
            }
        }
        long next = out.isEmpty() ? after : out.get(out.size() - 1).seq();
        return new Page(last, next, Collections.unmodifiableList(out));
    }

    private int index(long seq) {
        return (int) (seq % capacity);
    }
}
