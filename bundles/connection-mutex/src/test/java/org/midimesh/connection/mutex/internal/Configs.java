package org.midimesh.connection.mutex.internal;

import java.lang.reflect.Proxy;
import java.util.Map;

/** Makes instances of a component's Config annotation: the annotation's defaults, overridden by method name. */
final class Configs {

    private Configs() {
    }

    static <T> T of(Class<T> type, Map<String, Object> overrides) {
        Object proxy = Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (p, m, args) -> {
            switch (m.getName()) {
                case "annotationType":
                    return type;
                case "toString":
                    return type.getSimpleName() + overrides;
                case "hashCode":
                    return overrides.hashCode();
                case "equals":
                    return p == args[0];
                default:
                    return overrides.containsKey(m.getName()) ? overrides.get(m.getName()) : m.getDefaultValue();
            }
        });
        return type.cast(proxy);
    }

    static <T> T defaults(Class<T> type) {
        return of(type, Map.of());
    }
}
