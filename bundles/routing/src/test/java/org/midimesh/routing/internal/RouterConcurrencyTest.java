package org.midimesh.routing.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.midimesh.routing.internal.RouterFixture.PEER;
import static org.midimesh.routing.internal.RouterFixture.cc;
import static org.midimesh.routing.internal.RouterFixture.change;
import static org.midimesh.routing.internal.RouterFixture.local;
import static org.midimesh.routing.internal.RouterFixture.remote;
import static org.midimesh.routing.internal.RouterFixture.route;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.midimesh.api.midi.MessageType;
import org.midimesh.api.routing.Route;
import org.midimesh.api.routing.RoutingService;
import org.midimesh.api.test.DeadlockWatchdog;
import org.midimesh.api.transport.DataFrame;

@ExtendWith(DeadlockWatchdog.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RouterConcurrencyTest {

    private static final int FORWARDERS = 4;
    private static final int WRITERS = 2;
    private static final int WRITES_PER_WRITER = 150;

    @TempDir
    Path dir;

    @Test
    void shouldChangeRoutesWhileForwardingWithoutErrorsOrDeadlock() throws Exception {
        RouterFixture f = new RouterFixture(dir);
        Router router = f.router;
        Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
        AtomicInteger reentrantUpdates = new AtomicInteger();
        // A play that reads and even changes routes from the forwarding thread: must not deadlock, since no lock is
        // held while playing.
        f.devices.onPlay = p -> {
            router.routes();
            router.stats();
            if (ThreadLocalRandom.current().nextInt(200) == 0) {
                router.routes().stream().findAny().ifPresent(r -> {
                    router.update(r.id(), change(null, ThreadLocalRandom.current().nextInt(1001), null, null));
                    reentrantUpdates.incrementAndGet();
                });
            }
        };
        router.create(route(local(1), local(11)));

        AtomicBoolean writersDone = new AtomicBoolean();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < FORWARDERS; i++) {
            threads.add(new Thread(() -> {
                try {
                    start.await();
                    int n = 0;
                    while (!writersDone.get() || n < 1000) {
                        router.inputProduced(n % 2 == 0 ? f.in1 : f.in2, List.of(cc(1 + n % 16, 1, n % 128)));
                        router.dataReceived(PEER, new DataFrame(12, PEER, 21, n % 10, List.of(cc(1, 2, n % 128))),
                                n, 0);
                        n++;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (Throwable t) {
                    errors.add(t);
                }
            }, "midimesh-test-forwarder-" + i));
        }
        List<Thread> writers = new ArrayList<>();
        for (int i = 0; i < WRITERS; i++) {
            writers.add(new Thread(() -> {
                try {
                    start.await();
                    ThreadLocalRandom rnd = ThreadLocalRandom.current();
                    List<String> mine = new ArrayList<>();
                    for (int w = 0; w < WRITES_PER_WRITER; w++) {
                        switch (rnd.nextInt(4)) {
                            case 0 -> mine.add(router.create(route(local(1 + rnd.nextInt(2)),
                                    local(11 + rnd.nextInt(3)), rnd.nextInt(1001), rnd.nextInt(17), Set.of())).id());
                            case 1 -> mine.add(router.create(route(remote(21), rnd.nextBoolean() ? local(13)
                                    : remote(32), rnd.nextInt(1001), 0, Set.of(MessageType.CONTROL_CHANGE))).id());
                            case 2 -> {
                                if (!mine.isEmpty()) {
                                    router.update(mine.get(rnd.nextInt(mine.size())),
                                            change(rnd.nextBoolean(), rnd.nextInt(1001), rnd.nextInt(17), null));
                                }
                            }
                            default -> {
                                if (!mine.isEmpty()) {
                                    router.delete(mine.remove(rnd.nextInt(mine.size())));
                                }
                            }
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (Throwable t) {
                    errors.add(t);
                }
            }, "midimesh-test-writer-" + i));
        }
        threads.addAll(writers);
        threads.forEach(Thread::start);
        start.countDown();
        for (Thread w : writers) {
            w.join(TimeUnit.SECONDS.toMillis(50));
        }
        writersDone.set(true);
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(50));
            assertTrue(!t.isAlive(), t.getName() + " still running");
        }

        assertEquals(List.of(), new ArrayList<>(errors));
        assertTrue(f.devices.played().size() > 0);
        RoutingService.Stats s = router.stats();
        long perRouteMax = router.routes().stream().mapToLong(r -> r.messagesForwarded() + r.messagesDropped()).sum();
        assertTrue(s.messagesForwarded() + s.messagesDropped() >= perRouteMax, "totals include every route");
        List<Route> expected = router.routes().stream().map(r -> new Route(r.id(), r.enabled(), r.priority(),
                r.source(), r.destination(), r.channelFilter(), r.messageTypes(), 0, 0, r.orphaned(), r.orphanedReason())).toList();
        assertEquals(expected, f.newRouter().routes(), "the file holds exactly the routes in memory");
    }
}
