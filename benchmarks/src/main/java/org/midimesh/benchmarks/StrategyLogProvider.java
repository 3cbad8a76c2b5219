package org.midimesh.benchmarks;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.helpers.NOPMDCAdapter;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * The SLF4J binding of benchmarks.jar (found through {@code META-INF/services}): every logger writes to
 * {@link StrategyLog}, so the strategies log as they do in the server (same levels, same stack walks) without their
 * output mixing into the JMH console or growing without bound. Thread-safe.
 */
public final class StrategyLogProvider implements SLF4JServiceProvider {

    private final ConcurrentMap<String, Logger> loggers = new ConcurrentHashMap<>();
    private final ILoggerFactory factory = name -> loggers.computeIfAbsent(name, CappedLogger::new);
    private final IMarkerFactory markers = new BasicMarkerFactory();
    private final MDCAdapter mdc = new NOPMDCAdapter();

    @Override
    public ILoggerFactory getLoggerFactory() {
        return factory;
    }

    @Override
    public IMarkerFactory getMarkerFactory() {
        return markers;
    }

    @Override
    public MDCAdapter getMDCAdapter() {
        return mdc;
    }

    @Override
    public String getRequestedApiVersion() {
        return "2.0.99";
    }

    @Override
    public void initialize() {
        // everything is ready at construction
    }

    /** One named logger; the level check and the output are {@link StrategyLog}'s. */
    private static final class CappedLogger extends LegacyAbstractLogger {
        private static final long serialVersionUID = 1L;

        CappedLogger(String name) {
            this.name = name;
        }

        @Override
        public boolean isTraceEnabled() {
            return StrategyLog.enabled(Level.TRACE);
        }

        @Override
        public boolean isDebugEnabled() {
            return StrategyLog.enabled(Level.DEBUG);
        }

        @Override
        public boolean isInfoEnabled() {
            return StrategyLog.enabled(Level.INFO);
        }

        @Override
        public boolean isWarnEnabled() {
            return StrategyLog.enabled(Level.WARN);
        }

        @Override
        public boolean isErrorEnabled() {
            return StrategyLog.enabled(Level.ERROR);
        }

        @Override
        protected String getFullyQualifiedCallerName() {
            return null;
        }

        @Override
        protected void handleNormalizedLoggingCall(Level level, Marker marker, String message, Object[] arguments,
                Throwable thrown) {
            StrategyLog.write(level, name, MessageFormatter.basicArrayFormat(message, arguments), thrown);
        }
    }
}
