package org.midimesh.connection.seda.internal;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

import org.midimesh.api.connection.Handshake;
import org.midimesh.api.connection.Handshaker;

/**
 * A controllable handshaker. With an automatic answer it answers at once; otherwise each call blocks until the test
 * scripts an outcome with {@link #respond} or {@link #fail}. Records the calling threads.
 */
final class FakeHandshaker implements Handshaker {

    private final BlockingQueue<Object> script = new LinkedBlockingQueue<>();
    // Written by the test thread before use, read by handshake threads.
    private volatile Handshake automatic;
    final AtomicInteger calls = new AtomicInteger();
    final CopyOnWriteArrayList<String> threads = new CopyOnWriteArrayList<>();

    static FakeHandshaker answering(Handshake h) {
        FakeHandshaker f = new FakeHandshaker();
        f.automatic = h;
        return f;
    }

    static FakeHandshaker scripted() {
        return new FakeHandshaker();
    }

    void respond(Handshake h) {
        script.add(h);
    }

    void fail(String message) {
        script.add(new IOException(message));
    }

    @Override
    public Handshake handshake(String host, int httpPort) throws IOException {
        calls.incrementAndGet();
        threads.add(Thread.currentThread().getName());
        Handshake auto = automatic;
        if (auto != null) {
            return auto;
        }
        Object outcome;
        try {
            outcome = script.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
        if (outcome instanceof IOException e) {
            throw e;
        }
        return (Handshake) outcome;
    }
}
