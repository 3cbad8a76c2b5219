package org.midimesh.api.strategy;

import java.util.Locale;

/** Whether the canary policy only recommends ({@code MANUAL}) or acts on its verdicts ({@code AUTO}). */
public enum PolicyMode {
    MANUAL, AUTO;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
