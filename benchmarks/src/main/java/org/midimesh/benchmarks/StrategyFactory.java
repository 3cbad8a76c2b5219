package org.midimesh.benchmarks;

import java.lang.annotation.Annotation;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Locale;

import org.midimesh.api.strategy.spi.ConnectionStrategy;
import org.midimesh.api.test.Configs;

/**
 * Makes a connection strategy (the SPI's {@link ConnectionStrategy}, a maker of engines) directly, outside OSGi, the
 * way the DS runtime would: its constructor with a default {@code Config} instance. The benchmarks never use it
 * themselves: they hand it to the strategy manager ({@code ManagerHost.add}), which makes the connections. Called on
 * the JMH setup thread only.
 * <p>Found by class name ({@code org.midimesh.connection.<name>.internal.<Name>ConnectionStrategy}) rather than
 * compiled against, so a strategy bundle that is being reworked cannot break the reactor build through the
 * benchmarks, and a third strategy needs only a {@code @Param} value and a runtime dependency in the pom.
 */
final class StrategyFactory {

    private StrategyFactory() {
    }

    /** A running strategy and how to stop it (its {@code @Deactivate} method: closes connections, stops threads). */
    record Started(ConnectionStrategy strategy, Runnable stop) {
    }

    /**
     * Constructs the strategy called {@code name} with the default configuration.
     *
     * @throws IllegalStateException when the class is not on the class path or cannot be constructed
     */
    static Started start(String name) {
        String className = className(name);
        Class<?> type;
        try {
            type = Class.forName(className);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("strategy '" + name + "': " + className + " is not in benchmarks.jar; "
                    + "is its bundle a dependency of benchmarks/pom.xml and was it built?", e);
        }
        Constructor<?> constructor = Arrays.stream(type.getConstructors())
                .filter(c -> Arrays.stream(c.getParameterTypes()).allMatch(Class::isAnnotation))
                .max(Comparator.comparingInt(Constructor::getParameterCount))
                .orElseThrow(() -> new IllegalStateException(className
                        + " has no public constructor taking only Config annotations; extend StrategyFactory"));
        Object[] args = Arrays.stream(constructor.getParameterTypes())
                .map(p -> Configs.defaults(p.asSubclass(Annotation.class)))
                .toArray();
        Object instance;
        try {
            instance = constructor.newInstance(args);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException("constructing " + className + " failed", e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("constructing " + className + " failed", e);
        }
        if (!(instance instanceof ConnectionStrategy strategy)) {
            throw new IllegalStateException(className + " is not a " + ConnectionStrategy.class.getName());
        }
        if (!strategy.name().equals(name)) {
            throw new IllegalStateException(className + " calls itself '" + strategy.name() + "', not '" + name + "'");
        }
        Method deactivate = findDeactivate(type);
        return new Started(strategy, () -> invoke(deactivate, instance));
    }

    static String className(String name) {
        if (!name.matches("[a-z][a-z0-9]*")) {
            throw new IllegalArgumentException("strategy must be a lower-case name such as mutex or seda, not " + name);
        }
        String simple = name.substring(0, 1).toUpperCase(Locale.ROOT) + name.substring(1);
        return "org.midimesh.connection." + name + ".internal." + simple + "ConnectionStrategy";
    }

    /** The no-argument {@code deactivate} method (DS annotations are not kept at run time, so by name), or null. */
    private static Method findDeactivate(Class<?> type) {
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            try {
                Method m = c.getDeclaredMethod("deactivate");
                m.setAccessible(true);
                return m;
            } catch (NoSuchMethodException e) {
                // look in the superclass
            }
        }
        return null;
    }

    private static void invoke(Method deactivate, Object instance) {
        if (deactivate == null) {
            return;
        }
        try {
            deactivate.invoke(instance);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException("deactivating " + instance + " failed", e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("deactivating " + instance + " failed", e);
        }
    }
}
