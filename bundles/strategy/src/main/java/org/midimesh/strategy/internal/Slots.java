package org.midimesh.strategy.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The bound strategy services by name, each name's best first. Immutable: the manager replaces it whole when a service
 * comes, goes or changes its ranking, and reads it without a lock.
 */
final class Slots {

    static final Slots EMPTY = new Slots(new TreeMap<>());

    private final TreeMap<String, List<Slot>> byName;

    private Slots(TreeMap<String, List<Slot>> byName) {
        this.byName = byName;
    }

    Slots with(Slot slot) {
        TreeMap<String, List<Slot>> m = copy();
        List<Slot> list = new ArrayList<>(m.getOrDefault(slot.name(), List.of()));
        list.remove(slot);
        list.add(slot);
        list.sort(Slot.BEST_FIRST);
        m.put(slot.name(), List.copyOf(list));
        return new Slots(m);
    }

    Slots without(Slot slot) {
        TreeMap<String, List<Slot>> m = copy();
        List<Slot> list = new ArrayList<>(m.getOrDefault(slot.name(), List.of()));
        list.remove(slot);
        if (list.isEmpty()) {
            m.remove(slot.name());
        } else {
            m.put(slot.name(), List.copyOf(list));
        }
        return new Slots(m);
    }

    private TreeMap<String, List<Slot>> copy() {
        return new TreeMap<>(byName);
    }

    /** The service that runs connections of {@code name}: the best of that name. */
    Optional<Slot> active(String name) {
        List<Slot> list = byName.get(name);
        return list == null ? Optional.empty() : Optional.of(list.get(0));
    }

    /** Whether {@code slot} is bound (of any rank). */
    boolean contains(Slot slot) {
        List<Slot> list = byName.get(slot.name());
        return list != null && list.contains(slot);
    }

    /** Every bound service, by name, each name's best first. */
    List<Slot> all() {
        List<Slot> out = new ArrayList<>();
        byName.values().forEach(out::addAll);
        return out;
    }

    /** The names that can run connections, in name order. */
    List<String> names() {
        return List.copyOf(byName.keySet());
    }

    Map<String, List<Slot>> byName() {
        return Collections.unmodifiableMap(byName);
    }

    boolean isEmpty() {
        return byName.isEmpty();
    }
}
