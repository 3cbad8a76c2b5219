/**
 * The virtual MIDI driver: ports that exist only in software, kept in the data dir. Private to the bundle.
 */
package org.midimesh.driver.virtual.internal;
