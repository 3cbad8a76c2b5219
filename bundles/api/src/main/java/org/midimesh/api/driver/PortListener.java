package org.midimesh.api.driver;

import org.osgi.annotation.versioning.ProviderType;

/** Told when a driver's ports come and go. */
@ProviderType
public interface PortListener {

    void portAdded(MidiDriver driver, MidiPort port);

    void portRemoved(MidiDriver driver, MidiPort port);
}
