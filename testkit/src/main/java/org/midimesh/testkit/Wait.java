package org.midimesh.testkit;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * A bounded polling loop, usable inside the framework. (Awaitility is an OSGi bundle, but it needs Hamcrest 2, and
 * Pax Exam's {@code junitBundles()} bring Hamcrest 1.3; so the probe polls with this instead.) It asks the probe every
 * {@value #INTERVAL_MS} ms until the condition holds or the timeout passes, then fails with what it was waiting for
 * and the last value or error. Stateless and thread-safe.
 */
public final class Wait {

    public static final long INTERVAL_MS = 20;

    private Wait() {
    }

    /** A condition on a polled value; an exception counts as "not yet" and is reported on timeout. */
    @FunctionalInterface
    public interface Check<T> {
        boolean test(T value) throws Exception;
    }

    /** As {@link #until(String, Duration, Callable, Check, Function)}, showing the last value with toString. */
    public static <T> T until(String what, Duration timeout, Callable<T> probe, Check<? super T> done) {
        return until(what, timeout, probe, done, String::valueOf);
    }

    /**
     * @param what     what is awaited, for the failure message ("device \"Clock\" of driver clock")
     * @param describe renders the last value in the failure message
     * @return the first value that satisfied {@code done}
     * @throws AssertionError when the timeout passes first, or the thread is interrupted
     */
    public static <T> T until(String what, Duration timeout, Callable<T> probe, Check<? super T> done,
            Function<? super T, String> describe) {
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
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting until " + what, e);
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
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting until " + what);
            }
        }
    }
}
