package org.midimesh.driver.javasound.internal;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import javax.sound.midi.MidiDevice;
import javax.sound.midi.MidiMessage;
import javax.sound.midi.MidiUnavailableException;
import javax.sound.midi.Receiver;
import javax.sound.midi.Sequencer;
import javax.sound.midi.Synthesizer;
import javax.sound.midi.Transmitter;

/** Fake javax.sound.midi devices for the driver tests: no JDK device is touched. Thread-safe. */
final class FakeMidi implements MidiSystemAccess {

    /** A device description; the JDK's constructor is protected. */
    static final class Info extends MidiDevice.Info {
        Info(String name) {
            super(name, "fake vendor", "fake " + name, "1.0");
        }
    }

    /** A device with receivers and/or transmitters that can be told to fail to open. */
    static final class Device implements MidiDevice {
        final FakeMidi.Info info;
        final int maxReceivers;
        final int maxTransmitters;
        // Written by the test thread, read by the driver thread.
        volatile String openFailure;
        volatile long position = -1;
        volatile boolean open;
        final AtomicInteger opens = new AtomicInteger();
        final AtomicInteger closes = new AtomicInteger();
        /** What the driver sent to the device's receiver, with its timestamps. */
        final List<MidiMessage> received = new CopyOnWriteArrayList<>();
        final List<Long> receivedTimestamps = new CopyOnWriteArrayList<>();
        /** The receivers the driver connected to the device's transmitters. */
        final List<FakeTransmitter> transmitters = new CopyOnWriteArrayList<>();

        Device(String name, int maxReceivers, int maxTransmitters) {
            this.info = new FakeMidi.Info(name);
            this.maxReceivers = maxReceivers;
            this.maxTransmitters = maxTransmitters;
        }

        /** Sends as the device's hardware would, to every connected receiver. */
        void produce(MidiMessage message, long timeStamp) {
            for (FakeTransmitter t : transmitters) {
                Receiver r = t.receiver;
                if (r != null) {
                    r.send(message, timeStamp);
                }
            }
        }

        @Override
        public FakeMidi.Info getDeviceInfo() {
            return info;
        }

        @Override
        public void open() throws MidiUnavailableException {
            opens.incrementAndGet();
            String failure = openFailure;
            if (failure != null) {
                throw new MidiUnavailableException(failure);
            }
            open = true;
        }

        @Override
        public void close() {
            closes.incrementAndGet();
            open = false;
        }

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public long getMicrosecondPosition() {
            return position;
        }

        @Override
        public int getMaxReceivers() {
            return maxReceivers;
        }

        @Override
        public int getMaxTransmitters() {
            return maxTransmitters;
        }

        @Override
        public Receiver getReceiver() throws MidiUnavailableException {
            if (maxReceivers == 0) {
                throw new MidiUnavailableException("no receivers");
            }
            return new Receiver() {
                @Override
                public void send(MidiMessage message, long timeStamp) {
                    if (!open) {
                        throw new IllegalStateException("device is closed");
                    }
                    received.add(message);
                    receivedTimestamps.add(timeStamp);
                }

                @Override
                public void close() {
                }
            };
        }

        @Override
        public List<Receiver> getReceivers() {
            return List.of();
        }

        @Override
        public Transmitter getTransmitter() throws MidiUnavailableException {
            if (maxTransmitters == 0) {
                throw new MidiUnavailableException("no transmitters");
            }
            FakeTransmitter t = new FakeTransmitter();
            transmitters.add(t);
            return t;
        }

        @Override
        public List<Transmitter> getTransmitters() {
            return new ArrayList<>(transmitters);
        }

        @Override
        public String toString() {
            return "fake device " + info.getName();
        }
    }

    static final class FakeTransmitter implements Transmitter {
        volatile Receiver receiver;
        volatile boolean closed;

        @Override
        public void setReceiver(Receiver receiver) {
            this.receiver = receiver;
        }

        @Override
        public Receiver getReceiver() {
            return receiver;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    // Written by the test thread, read by the driver thread: what the "JDK" lists now, in order.
    private final List<MidiDevice> devices = new CopyOnWriteArrayList<>();
    final AtomicLong scans = new AtomicLong();

    Device add(String name, int maxReceivers, int maxTransmitters) {
        Device d = new Device(name, maxReceivers, maxTransmitters);
        devices.add(d);
        return d;
    }

    void add(MidiDevice d) {
        devices.add(d);
    }

    void remove(MidiDevice d) {
        devices.remove(d);
    }

    /** Whether {@link #audioOutputLine()} says there is an audio line; written by the test, read by the driver. */
    volatile boolean audioLine = true;

    /** A software synthesizer as the JDK has one (receivers only); counts its opens, and opens only with an audio line. */
    static final class Synth {
        final MidiDevice device;
        final AtomicInteger opens = new AtomicInteger();

        Synth(String name, FakeMidi midi) {
            Info info = new Info(name);
            this.device = (MidiDevice) Proxy.newProxyInstance(FakeMidi.class.getClassLoader(),
                    new Class<?>[] {Synthesizer.class}, (proxy, method, args) -> switch (method.getName()) {
                        case "getDeviceInfo" -> info;
                        case "getMaxReceivers" -> -1;
                        case "getMaxTransmitters" -> 0;
                        case "open" -> {
                            opens.incrementAndGet();
                            if (!midi.audioLine) {
                                throw new MidiUnavailableException("Can not open line");
                            }
                            yield null;
                        }
                        case "getReceiver" -> (Receiver) Proxy.newProxyInstance(FakeMidi.class.getClassLoader(),
                                new Class<?>[] {Receiver.class}, (p, m, a) -> null);
                        case "close" -> null;
                        case "toString" -> "fake synthesizer " + name;
                        case "hashCode" -> System.identityHashCode(proxy);
                        case "equals" -> proxy == args[0];
                        default -> throw new AssertionError("not faked: " + method);
                    });
        }
    }

    Synth addSynthesizer(String name) {
        Synth s = new Synth(name, this);
        devices.add(s.device);
        return s;
    }

    @Override
    public boolean audioOutputLine() {
        return audioLine;
    }

    /** A sequencer as the JDK has one (receivers and transmitters); the driver must not list it. */
    MidiDevice addSequencer(String name) {
        Info info = new Info(name);
        MidiDevice s = (MidiDevice) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {Sequencer.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getDeviceInfo" -> info;
                    case "getMaxReceivers", "getMaxTransmitters" -> -1;
                    case "toString" -> "fake sequencer " + name;
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> throw new AssertionError("the driver must not use a sequencer: " + method);
                });
        devices.add(s);
        return s;
    }

    @Override
    public MidiDevice.Info[] deviceInfo() {
        scans.incrementAndGet();
        return devices.stream().map(MidiDevice::getDeviceInfo).toArray(MidiDevice.Info[]::new);
    }

    @Override
    public MidiDevice device(MidiDevice.Info info) throws MidiUnavailableException {
        for (MidiDevice d : devices) {
            if (d.getDeviceInfo() == info) {
                return d;
            }
        }
        throw new IllegalArgumentException("no such device: " + info);
    }
}
