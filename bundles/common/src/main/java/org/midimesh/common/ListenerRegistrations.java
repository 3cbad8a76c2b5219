package org.midimesh.common;

import java.util.ArrayList;
import java.util.List;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

/**
 * Whiteboard listener services that a component registers itself, once it is fully activated, instead of declaring
 * them as DS services.
 * <p>Why: a component that is both a whiteboard listener of service X and a consumer of X (the mesh listens to the
 * transport it sends through; routing listens to the device registry it plays on) forms a service cycle. With DS
 * declaring both, SCR activates the listener lazily from inside X's activation, detects the cycle on that thread and
 * may leave a consumer unbound (a node whose /health said "mesh down" forever, seen once in CI). Registered here, the
 * listener is a plain service object that appears only after its component is active: no lazy activation, no cycle.
 * <p>Threads: {@link #register} is called from the component's activate method and {@link #close} from its deactivate
 * method, both on SCR's thread; SCR never runs them concurrently for one component, so the list needs no lock.
 */
public final class ListenerRegistrations implements AutoCloseable {

    private final BundleContext context;
    private final List<ServiceRegistration<?>> registrations = new ArrayList<>();

    public ListenerRegistrations(BundleContext context) {
        this.context = context;
    }

    /** Registers {@code listener} as a {@code type} service of the component's bundle. */
    public <S> ListenerRegistrations register(Class<S> type, S listener) {
        registrations.add(context.registerService(type, listener, null));
        return this;
    }

    /** Unregisters every listener, newest first; consumers are unbound before this returns. Idempotent. */
    @Override
    public void close() {
        for (int i = registrations.size() - 1; i >= 0; i--) {
            try {
                registrations.get(i).unregister();
            } catch (IllegalStateException alreadyGone) {
                // The bundle is stopping and the framework unregistered it first: nothing left to do.
            }
        }
        registrations.clear();
    }
}
