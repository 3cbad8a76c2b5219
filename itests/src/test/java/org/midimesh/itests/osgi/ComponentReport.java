package org.midimesh.itests.osgi;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.service.component.runtime.dto.ReferenceDTO;
import org.osgi.service.component.runtime.dto.SatisfiedReferenceDTO;
import org.osgi.service.component.runtime.dto.UnsatisfiedReferenceDTO;

/**
 * What SCR says about the org.midimesh.* components, for assertions and for failure messages: a test that waits for a
 * service in vain should say which component is stuck and why, because the run that failed is often gone.
 */
final class ComponentReport {

    private ComponentReport() {
    }

    /** Empty when every component of those bundles is enabled and ACTIVE or SATISFIED. */
    static List<String> problems(ServiceComponentRuntime scr, List<Bundle> bundles) {
        List<String> problems = new ArrayList<>();
        Collection<ComponentDescriptionDTO> descriptions = scr.getComponentDescriptionDTOs(bundles.toArray(
                new Bundle[0]));
        Set<Long> withComponents = descriptions.stream().map(d -> d.bundle.id).collect(Collectors.toSet());
        for (Bundle b : bundles) {
            if (b.getHeaders("").get("Service-Component") != null && !withComponents.contains(b.getBundleId())) {
                problems.add(b.getSymbolicName() + " declares Service-Component but SCR reports no components for"
                        + " it (bundle " + NodeInFelixOsgiIT.stateName(b.getState()) + ")");
            }
        }
        if (descriptions.isEmpty()) {
            problems.add("SCR reports no components in any org.midimesh.* bundle");
        }
        for (ComponentDescriptionDTO d : descriptions) {
            String who = d.name + " (" + d.bundle.symbolicName + ")";
            if (!scr.isComponentEnabled(d)) {
                problems.add(who + " is disabled");
                continue;
            }
            Collection<ComponentConfigurationDTO> configs = scr.getComponentConfigurationDTOs(d);
            if (configs.isEmpty()) {
                problems.add(who + " has no configuration: policy " + d.configurationPolicy + ", PID "
                        + Arrays.toString(d.configurationPid));
                continue;
            }
            for (ComponentConfigurationDTO c : configs) {
                if (c.state != ComponentConfigurationDTO.ACTIVE && c.state != ComponentConfigurationDTO.SATISFIED) {
                    problems.add(who + " is " + describe(d, c));
                }
            }
        }
        return problems;
    }

    /**
     * The cycles in the service graph of those bundles' components, each as "A -> B -> ... -> A": an edge A -> B when
     * A has a reference (static or dynamic, any cardinality) to an interface that B provides as a DS service. SCR
     * resolves such a cycle by lazily activating one side from inside the other's activation, which can leave a
     * consumer unbound; our components keep the graph acyclic (whiteboard listeners are registered by the component
     * itself once active, see org.midimesh.common.ListenerRegistrations).
     */
    static List<String> serviceCycles(ServiceComponentRuntime scr, List<Bundle> bundles) {
        List<ComponentDescriptionDTO> components = new ArrayList<>(scr.getComponentDescriptionDTOs(bundles.toArray(
                new Bundle[0])));
        Map<String, List<String>> edges = new TreeMap<>();
        for (ComponentDescriptionDTO a : components) {
            List<String> to = new ArrayList<>();
            for (ReferenceDTO r : a.references) {
                for (ComponentDescriptionDTO b : components) {
                    if (b.serviceInterfaces != null && Arrays.asList(b.serviceInterfaces).contains(r.interfaceName)
                            && !to.contains(b.name)) {
                        to.add(b.name);
                    }
                }
            }
            edges.put(a.name, to);
        }
        List<String> cycles = new ArrayList<>();
        Set<String> done = new HashSet<>();
        for (String start : edges.keySet()) {
            findCycles(start, edges, new ArrayList<>(), done, cycles);
        }
        return cycles;
    }

    /** Depth-first search; {@code path} is the current chain, {@code done} the nodes fully explored. */
    private static void findCycles(String node, Map<String, List<String>> edges, List<String> path,
            Set<String> done, List<String> cycles) {
        int at = path.indexOf(node);
        if (at >= 0) {
            List<String> cycle = new ArrayList<>(path.subList(at, path.size()));
            cycle.add(node);
            cycles.add(cycle.stream().map(n -> n.substring(n.lastIndexOf('.') + 1)).collect(Collectors.joining(
                    " -> ")));
            return;
        }
        if (!done.add(node)) {
            return;
        }
        path.add(node);
        for (String next : edges.getOrDefault(node, List.of())) {
            findCycles(next, edges, path, done, cycles);
        }
        path.remove(path.size() - 1);
    }

    /**
     * Every component of the org.midimesh.* bundles with its state and its references (bound services or what is
     * missing), one per line; for the message of a test that timed out waiting for the node. Never throws.
     */
    static String all(BundleContext context) {
        try {
            ServiceReference<ServiceComponentRuntime> ref = context.getServiceReference(ServiceComponentRuntime.class);
            if (ref == null) {
                return "(no ServiceComponentRuntime service)";
            }
            ServiceComponentRuntime scr = context.getService(ref);
            try {
                Bundle[] ours = Arrays.stream(context.getBundles())
                        .filter(b -> b.getSymbolicName() != null && b.getSymbolicName().startsWith("org.midimesh."))
                        .toArray(Bundle[]::new);
                StringBuilder s = new StringBuilder("SCR components:");
                for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs(ours)) {
                    s.append("\n  ").append(d.name).append(scr.isComponentEnabled(d) ? "" : " (disabled)");
                    for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
                        s.append("\n    ").append(describe(d, c));
                        for (SatisfiedReferenceDTO r : c.satisfiedReferences) {
                            s.append("\n      ").append(r.name).append(" bound to services ")
                                    .append(Arrays.stream(r.boundServices).map(x -> String.valueOf(x.id))
                                            .collect(Collectors.joining(",", "[", "]")));
                        }
                    }
                }
                return s.toString();
            } finally {
                context.ungetService(ref);
            }
        } catch (RuntimeException e) {
            return "(SCR report failed: " + e + ")";
        }
    }

    private static String describe(ComponentDescriptionDTO d, ComponentConfigurationDTO c) {
        StringBuilder s = new StringBuilder(state(c.state));
        if (c.unsatisfiedReferences != null && c.unsatisfiedReferences.length > 0) {
            s.append(", unsatisfied references:");
            for (UnsatisfiedReferenceDTO u : c.unsatisfiedReferences) {
                s.append(' ').append(u.name).append(" -> ").append(referenceInterface(d, u.name));
                if (u.target != null) {
                    s.append(" target ").append(u.target);
                }
                s.append(';');
            }
        }
        if (c.failure != null) {
            s.append(", failure: ").append(c.failure.lines().limit(6).collect(Collectors.joining(" | ")));
        }
        return s.toString();
    }

    private static String referenceInterface(ComponentDescriptionDTO d, String name) {
        return Arrays.stream(d.references).filter(r -> r.name.equals(name)).map(r -> r.interfaceName).findFirst()
                .orElse("?");
    }

    private static String state(int state) {
        switch (state) {
            case ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION:
                return "UNSATISFIED_CONFIGURATION";
            case ComponentConfigurationDTO.UNSATISFIED_REFERENCE:
                return "UNSATISFIED_REFERENCE";
            case ComponentConfigurationDTO.SATISFIED:
                return "SATISFIED";
            case ComponentConfigurationDTO.ACTIVE:
                return "ACTIVE";
            case ComponentConfigurationDTO.FAILED_ACTIVATION:
                return "FAILED_ACTIVATION";
            default:
                return "state " + state;
        }
    }
}
