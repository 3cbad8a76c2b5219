/**
 * The javasound MIDI driver: the MIDI devices the JDK sees through {@code javax.sound.midi}, rescanned on the
 * driver's own thread. Private to the bundle.
 */
package org.midimesh.driver.javasound.internal;
