/**
 * The load-test driver {@code loadtest} (see the module's README): {@link
 * org.midimesh.load.driver.internal.LoadDriver} is the DS component; the generator, the recorder, the schedule and the
 * run files are its parts. Private: the node sees the driver only through its {@code MidiDriver} service.
 */
package org.midimesh.load.driver.internal;
