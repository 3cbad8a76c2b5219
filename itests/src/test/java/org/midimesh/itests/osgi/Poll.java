package org.midimesh.itests.osgi;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * A bounded polling loop for tests inside the framework (Awaitility is not an OSGi bundle). It asks {@code probe} every
 * {@value #INTERVAL_MS} ms until {@code done} holds or the timeout passes, then fails with the last value or error.
 */
final class Poll {

    static final long INTERVAL_MS = 50;

    private Poll() {
    }

    /** A condition on a polled value; an exception counts as "not yet" and is reported on timeout. */
    @FunctionalInterface
    interface Check<T> {
        boolean test(T value) throws Exception;
    }

    static <T> T until(String what, Duration timeout, Callable<T> probe, Check<? super T> done)
            throws InterruptedException {
        return until(what, timeout, probe, done, String::valueOf);
    }

    /**
     * @param describe renders the last value in the failure message
     * @return the first value that satisfied {@code done}
     * @throws AssertionError when the timeout passes first
     */
    static <T> T until(String what, Duration timeout, Callable<T> probe, Check<? super T> done,
            Function<? super T, String> describe) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        T last = null;
        Exception lastError = null;
        boolean gotValue = false;
        while (true) {
            try {
                last = probe.call();
                gotValue = true;
                lastError = null;
                if (done.test(last)) {
                    return last;
                }
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                lastError = e;
            }
            if (System.nanoTime() - deadline >= 0) {
                String detail = lastError != null ? "last error: " + lastError
                        : gotValue ? "last value: " + describe.apply(last) : "no value";
                AssertionError failure = new AssertionError(what + " did not happen within " + timeout.toMillis()
                        + " ms; " + detail);
                if (lastError != null) {
                    failure.initCause(lastError);
                }
                throw failure;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(INTERVAL_MS));
            if (Thread.interrupted()) {
                throw new InterruptedException("interrupted while waiting until " + what);
            }
        }
    }
}
