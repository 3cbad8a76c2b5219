package org.midimesh.api.test;

import java.lang.annotation.Annotation;
import java.lang.reflect.Proxy;
import java.util.Map;

/**
 * Instances of DS component property types (the {@code Config} annotations) for tests that build components with
 * their constructors: each method returns the value in {@code values} (keyed by method name), else its default.
 */
public final class Configs {

    private Configs() {
    }

    public static <A extends Annotation> A of(Class<A> type, Map<String, Object> values) {
        Object proxy = Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (p, method, args) -> {
            switch (method.getName()) {
                case "annotationType":
                    return type;
                case "toString":
                    return type.getSimpleName() + values;
                case "hashCode":
                    return values.hashCode();
                case "equals":
                    return p == args[0];
                default:
                    return values.containsKey(method.getName()) ? values.get(method.getName())
                            : method.getDefaultValue();
            }
        });
        return type.cast(proxy);
    }

    public static <A extends Annotation> A defaults(Class<A> type) {
        return of(type, Map.of());
    }
}
