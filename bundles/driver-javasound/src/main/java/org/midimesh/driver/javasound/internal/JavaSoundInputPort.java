package org.midimesh.driver.javasound.internal;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import javax.sound.midi.Receiver;

import org.midimesh.api.DeviceType;
import org.midimesh.api.NodeId;
import org.midimesh.api.driver.Availability;
import org.midimesh.api.driver.InputSink;
import org.midimesh.api.midi.MidiMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An input: a device with transmitters. The driver connects the device's transmitter to {@link #receiver()}; what
 * the device sends there is converted ({@link JavaSoundMessages.Assembler}) and handed to the {@link InputSink}, on
 * the thread the JDK delivers on, with no lock held. A message that {@link MidiMessage} rejects is skipped, counted
 * ({@link #rejected()}) and logged at most once per {@value #REJECT_LOG_PERIOD_SECONDS} s. Thread-safe.
 * <p>Timestamps: javax stamps a message with the device's clock in microseconds ({@code -1}: none). The port turns it
 * into epoch microseconds as now minus its age on the device clock ({@code MidiDevice.getMicrosecondPosition()} minus
 * the stamp, at least 0); without a stamp or a device clock the sink gets the messages without a timestamp.
 */
final class JavaSoundInputPort extends JavaSoundPort {

    static final long REJECT_LOG_PERIOD_SECONDS = 10;
    private static final Logger LOG = LoggerFactory.getLogger(JavaSoundInputPort.class);

    // The device's clock in microseconds (-1 when it has none), and the epoch clock in microseconds. Final.
    private final LongSupplier deviceMicros;
    private final LongSupplier epochMicros;
    private final LongSupplier nanoTime;
    private final Receiver receiver = new PortReceiver();

    // Written by whoever registers the port (the device registry, on a framework or driver thread), read by the JDK's
    // delivery thread; the volatile write publishes the sink object.
    private volatile InputSink sink;

    // Guarded by its own monitor, which is held only while bytes are assembled, never while calling out.
    private final JavaSoundMessages.Assembler assembler = new JavaSoundMessages.Assembler();

    // Rejected messages so far; incremented by the delivery thread, read by anyone. Publishes only its value.
    private final AtomicLong rejected = new AtomicLong();
    // Rejections not logged yet, and the nanoTime before which no rejection is logged. Updated by the delivery thread
    // (getAndSet / compareAndSet); each publishes only its own value.
    private final AtomicLong unlogged = new AtomicLong();
    private final AtomicLong quietUntilNanos;

    /**
     * @param deviceMicros the device's clock ({@code MidiDevice::getMicrosecondPosition}), -1 when it has none
     * @param epochMicros  microseconds since the epoch, now
     * @param nanoTime     for the log rate limit
     */
    JavaSoundInputPort(String name, Availability availability, LongSupplier deviceMicros, LongSupplier epochMicros,
            LongSupplier nanoTime) {
        super(name, availability);
        this.deviceMicros = deviceMicros;
        this.epochMicros = epochMicros;
        this.nanoTime = nanoTime;
        this.quietUntilNanos = new AtomicLong(nanoTime.getAsLong());
    }

    @Override
    public DeviceType type() {
        return DeviceType.INPUT;
    }

    /** @throws UnsupportedOperationException always: an input does not play */
    @Override
    public void play(List<MidiMessage> messages, NodeId source) {
        throw new UnsupportedOperationException(this + " is an input; only outputs play");
    }

    @Override
    public void setInputSink(InputSink sink) {
        this.sink = sink;
    }

    /** Where the device's transmitter sends; its {@code close} does nothing (the driver closes the device). */
    Receiver receiver() {
        return receiver;
    }

    /** Messages skipped because MidiMesh does not accept them (including unfinished or oversized SysEx). */
    long rejected() {
        return rejected.get();
    }

    /** One javax message from the device, on the JDK's delivery thread. Never throws. */
    void deliver(javax.sound.midi.MidiMessage in, long deviceTimestamp) {
        if (closed()) {
            return;
        }
        JavaSoundMessages.Step step;
        synchronized (assembler) {
            step = assembler.accept(in);
        }
        for (String reason : step.rejected()) {
            reject(reason);
        }
        MidiMessage m = step.message();
        InputSink s = sink;
        if (m == null || s == null) {
            return;
        }
        long at = epochTimestamp(deviceTimestamp);
        try {
            if (at < 0) {
                s.produced(this, List.of(m));
            } else {
                s.produced(this, List.of(m), at);
            }
        } catch (RuntimeException e) {
            LOG.error("the input sink of {} failed on {}", this, m, e);
        }
    }

    /** Epoch microseconds for a device timestamp, or -1 when there is none to convert. */
    private long epochTimestamp(long deviceTimestamp) {
        if (deviceTimestamp < 0) {
            return -1;
        }
        long position = deviceMicros.getAsLong();
        if (position < 0) {
            return -1;
        }
        return epochMicros.getAsLong() - Math.max(0, position - deviceTimestamp);
    }

    private void reject(String reason) {
        long total = rejected.incrementAndGet();
        long held = unlogged.incrementAndGet();
        long now = nanoTime.getAsLong();
        long quietUntil = quietUntilNanos.get();
        long next = now + TimeUnit.SECONDS.toNanos(REJECT_LOG_PERIOD_SECONDS);
        if (now - quietUntil >= 0 && quietUntilNanos.compareAndSet(quietUntil, next)) {
            unlogged.addAndGet(-held);
            LOG.warn("{} skipped {} message(s) MidiMesh does not accept ({} in all), the last: {}", this, held, total,
                    reason);
        }
    }

    /** The javax side of the port; the JDK may call it from any thread. */
    private final class PortReceiver implements Receiver {

        @Override
        public void send(javax.sound.midi.MidiMessage message, long timeStamp) {
            if (message != null) {
                deliver(message, timeStamp);
            }
        }

        @Override
        public void close() {
        }

        @Override
        public String toString() {
            return "receiver of " + JavaSoundInputPort.this;
        }
    }
}
