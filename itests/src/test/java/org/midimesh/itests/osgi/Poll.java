package org.midimesh.itests.osgi;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Function;

import org.midimesh.testkit.Wait;

/**
 * A bounded polling loop for tests inside the framework: the test kit's {@link Wait} (Awaitility needs Hamcrest 2,
 * which Pax Exam's JUnit bundles do not have). Asks {@code probe} every {@value Wait#INTERVAL_MS} ms until
 * {@code done} holds or the timeout passes, then fails with the last value or error.
 */
final class Poll {

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
        T value = Wait.until(what, timeout, probe, done::test, describe);
        if (Thread.interrupted()) {
            throw new InterruptedException("interrupted while waiting until " + what);
        }
        return value;
    }
}
