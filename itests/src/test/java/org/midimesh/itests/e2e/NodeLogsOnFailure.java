package org.midimesh.itests.e2e;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.LifecycleMethodExecutionExceptionHandler;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.opentest4j.TestAbortedException;

/**
 * Adds the log tails of the test's nodes to a failure, so the report shows what the processes said. Finds them in
 * fields of type {@link Cluster} of the test instance.
 */
final class NodeLogsOnFailure implements TestExecutionExceptionHandler, LifecycleMethodExecutionExceptionHandler {

    private static final int LINES = 40;

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        throw withLogs(context, throwable);
    }

    @Override
    public void handleBeforeAllMethodExecutionException(ExtensionContext context, Throwable throwable)
            throws Throwable {
        throw withLogs(context, throwable);
    }

    @Override
    public void handleBeforeEachMethodExecutionException(ExtensionContext context, Throwable throwable)
            throws Throwable {
        throw withLogs(context, throwable);
    }

    private static Throwable withLogs(ExtensionContext context, Throwable t) {
        if (t instanceof TestAbortedException) {
            return t;
        }
        Optional<Object> instance = context.getTestInstance();
        if (instance.isEmpty()) {
            return t;
        }
        StringBuilder logs = new StringBuilder();
        for (Cluster c : clusters(instance.get())) {
            logs.append(c.report(LINES));
        }
        if (logs.length() == 0) {
            return t;
        }
        AssertionError e = new AssertionError(t + "\n===== node logs =====" + logs, t);
        return e;
    }

    private static List<Cluster> clusters(Object test) {
        List<Cluster> out = new ArrayList<>();
        for (Class<?> c = test.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Cluster.class.isAssignableFrom(f.getType())) {
                    try {
                        f.setAccessible(true);
                        Object v = f.get(test);
                        if (v != null) {
                            out.add((Cluster) v);
                        }
                    } catch (ReflectiveOperationException | RuntimeException e) {
                        // not readable: no logs from it
                    }
                }
            }
        }
        return out;
    }
}
