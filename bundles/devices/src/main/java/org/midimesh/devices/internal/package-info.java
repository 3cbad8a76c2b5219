/**
 * The local device registry: every port of every driver under a small stable device id. Private to the bundle.
 */
package org.midimesh.devices.internal;
