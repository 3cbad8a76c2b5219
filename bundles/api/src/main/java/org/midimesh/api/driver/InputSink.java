package org.midimesh.api.driver;

import java.util.List;

import org.midimesh.api.midi.MidiMessage;
import org.osgi.annotation.versioning.ProviderType;

/** Where an input port delivers what it produces. Thread-safe and non-blocking. */
@ProviderType
public interface InputSink {

    void produced(MidiPort port, List<MidiMessage> messages);
}
