package org.midimesh.launcher;

import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the Felix framework's own messages to SLF4J (stderr) instead of stdout, where the ready line must stand
 * alone. Called on whatever framework thread logs; stateless apart from the SLF4J logger.
 */
final class FelixLog extends org.apache.felix.framework.Logger {

    private static final Logger LOG = LoggerFactory.getLogger("felix");

    @Override
    protected void doLog(Bundle bundle, @SuppressWarnings("rawtypes") ServiceReference sr, int level, String msg,
            Throwable throwable) {
        String text = bundle == null ? msg : bundle.getSymbolicName() + ": " + msg;
        switch (level) {
            case LOG_ERROR -> LOG.error(text, throwable);
            case LOG_WARNING -> LOG.warn(text, throwable);
            case LOG_INFO -> LOG.info(text, throwable);
            default -> LOG.debug(text, throwable);
        }
    }
}
