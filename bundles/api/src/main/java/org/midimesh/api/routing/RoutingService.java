package org.midimesh.api.routing;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The routes of this node, kept in the data dir and written atomically on every change. Thread-safe.
 * <p>A route's source is any input in the mesh and its destination any output in the mesh. Validation failures throw
 * {@link IllegalArgumentException} whose message names the field; a failed call changes nothing.
 */
@ProviderType
public interface RoutingService {

    /** Totals across routes. */
    record Stats(long messagesForwarded, long messagesDropped, long loopsDetected) {
    }

    List<Route> routes();

    Optional<Route> get(String id);

    /** @throws IllegalArgumentException when a field is missing or invalid, or a device is unknown or of the wrong type */
    Route create(RouteRequest request);

    /** @throws IllegalArgumentException when a field is invalid */
    Optional<Route> update(String id, RouteRequest request);

    boolean delete(String id);

    Stats stats();
}
