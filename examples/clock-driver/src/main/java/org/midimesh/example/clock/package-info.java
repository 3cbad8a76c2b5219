/**
 * An example MidiMesh driver plugin: a MIDI clock generator (see the module's README). Private: a driver bundle
 * exports nothing; the node sees it only through its {@code MidiDriver} service.
 */
package org.midimesh.example.clock;
