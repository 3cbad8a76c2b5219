package org.midimesh.connection.pool.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.midimesh.api.NodeId;
import org.midimesh.api.connection.NetworkConnection;
import org.midimesh.api.test.DeadlockWatchdog;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
@ExtendWith(DeadlockWatchdog.class)
class DefaultConnectionPoolTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private final DefaultConnectionPool pool = new DefaultConnectionPool();
    private final ExecutorService other = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "test-pool-other");
        t.setDaemon(true);
        return t;
    });

    @AfterEach
    void stop() throws InterruptedException {
        other.shutdownNow();
        other.awaitTermination(10, TimeUnit.SECONDS);
    }

    private FakeConnection fake() {
        FakeConnection c = new FakeConnection();
        c.poolLockHeld = pool::isLockHeldByCurrentThread;
        return c;
    }

    @Test
    void shouldAddGetAndListConnections() {
        NodeId a = NodeId.random();
        NodeId b = NodeId.random();
        FakeConnection ca = fake();
        FakeConnection cb = fake();

        assertTrue(pool.add(a, ca));
        assertTrue(pool.add(b, cb));

        assertEquals(2, pool.size());
        assertSame(ca, pool.get(a).orElseThrow());
        assertEquals(Optional.empty(), pool.get(NodeId.random()));
        assertEquals(Set.of(ca, cb), Set.copyOf(pool.all()));
    }

    @Test
    void shouldRefuseASecondConnectionForTheSamePeer() {
        NodeId a = NodeId.random();
        FakeConnection first = fake();
        FakeConnection second = fake();
        pool.add(a, first);

        assertFalse(pool.add(a, second));

        assertSame(first, pool.get(a).orElseThrow());
        assertEquals(1, pool.size());
        assertEquals(0, second.closes.get(), "the refused connection still belongs to the caller");
    }

    @Test
    void shouldRejectNulls() {
        assertThrows(NullPointerException.class, () -> pool.add(null, fake()));
        assertThrows(NullPointerException.class, () -> pool.add(NodeId.random(), null));
        assertThrows(NullPointerException.class, () -> pool.get(null));
        assertThrows(NullPointerException.class, () -> pool.remove(null));
        assertThrows(NullPointerException.class, () -> pool.withAllConnections(null));
        assertEquals(0, pool.size());
    }

    @Test
    void shouldDisconnectAndCloseOnRemoveOutsideTheLock() {
        NodeId a = NodeId.random();
        FakeConnection c = fake();
        pool.add(a, c);

        assertTrue(pool.remove(a));
        assertFalse(pool.remove(a));

        assertEquals(1, c.disconnects.get());
        assertEquals(1, c.closes.get());
        assertFalse(c.lockHeldDuringTearDown);
        assertEquals(Optional.empty(), pool.get(a));
        assertEquals(0, pool.size());
    }

    @Test
    void shouldHandOutImmutableSnapshots() {
        NodeId a = NodeId.random();
        pool.add(a, fake());
        Collection<NetworkConnection> snapshot = pool.all();

        pool.add(NodeId.random(), fake());
        pool.remove(a);

        assertEquals(1, snapshot.size());
        assertThrows(UnsupportedOperationException.class, () -> snapshot.add(fake()));
        assertThrows(UnsupportedOperationException.class, snapshot::clear);
    }

    @Test
    void shouldRunWithAllConnectionsUnderTheLockOnAnImmutableView() {
        pool.add(NodeId.random(), fake());
        pool.add(NodeId.random(), fake());

        int count = pool.withAllConnections(all -> {
            assertTrue(pool.isLockHeldByCurrentThread());
            assertThrows(UnsupportedOperationException.class, () -> all.add(fake()));
            assertEquals(2, pool.size(), "queries may re-enter");
            return all.size();
        });

        assertEquals(2, count);
        assertFalse(pool.isLockHeldByCurrentThread());
    }

    @Test
    void shouldRefuseChangesFromInsideWithAllConnections() {
        NodeId a = NodeId.random();
        FakeConnection c = fake();
        pool.add(a, c);

        assertThrows(IllegalStateException.class, () -> pool.withAllConnections(all -> pool.remove(a)));
        assertThrows(IllegalStateException.class, () -> pool.withAllConnections(all -> pool.add(NodeId.random(), c)));

        assertEquals(1, pool.size());
        assertEquals(0, c.closes.get());
        assertFalse(pool.isLockHeldByCurrentThread(), "the lock is released after the action threw");
    }

    @Test
    void shouldNotBlockOtherCallersWhileARemovedConnectionCloses() throws Exception {
        NodeId slowPeer = NodeId.random();
        NodeId otherPeer = NodeId.random();
        FakeConnection slow = fake();
        slow.closeGate = new CountDownLatch(1);
        FakeConnection fine = fake();
        pool.add(slowPeer, slow);
        pool.add(otherPeer, fine);

        Future<Boolean> removal = other.submit(() -> pool.remove(slowPeer));
        assertTrue(slow.closeEntered.await(10, TimeUnit.SECONDS));

        // PoolIterationDuringDisconnect: the close blocks, yet the pool answers
        assertSame(fine, pool.get(otherPeer).orElseThrow());
        assertEquals(List.of(fine), List.copyOf(pool.all()));
        assertEquals(1, pool.size());
        assertEquals(1, (int) pool.withAllConnections(Collection::size));
        assertTrue(pool.add(NodeId.random(), fake()));
        assertFalse(removal.isDone());

        slow.closeGate.countDown();
        assertTrue(removal.get(10, TimeUnit.SECONDS));
        assertFalse(slow.lockHeldDuringTearDown);
        assertEquals(1, slow.closes.get());
    }

    @Test
    void shouldNotCloseAConnectionWhileWithAllConnectionsIteratesOverIt() throws Exception {
        NodeId peer = NodeId.random();
        FakeConnection c = fake();
        pool.add(peer, c);
        CountDownLatch inside = new CountDownLatch(1);

        Future<Boolean> removal = other.submit(() -> {
            inside.await();
            return pool.remove(peer);
        });
        int devices = pool.withAllConnections(all -> {
            inside.countDown();
            await().atMost(WAIT).until(pool::hasThreadsWaitingForLock); // the remover waits for us
            int total = 0;
            for (NetworkConnection conn : all) {
                assertFalse(((FakeConnection) conn).isClosed(), "closed during iteration");
                total += conn.getRemoteDevices().size();
            }
            return total;
        });

        assertEquals(0, devices);
        assertTrue(removal.get(10, TimeUnit.SECONDS));
        assertTrue(c.isClosed());
    }

    @Test
    void shouldCloseWhatIsLeftOnDeactivation() {
        FakeConnection a = fake();
        FakeConnection b = fake();
        pool.add(NodeId.random(), a);
        pool.add(NodeId.random(), b);

        pool.deactivate();

        assertEquals(0, pool.size());
        assertEquals(1, a.closes.get());
        assertEquals(1, b.closes.get());
        assertFalse(a.lockHeldDuringTearDown || b.lockHeldDuringTearDown);
    }

    @Test
    void shouldKeepTearingDownWhenAConnectionThrows() {
        NodeId peer = NodeId.random();
        FakeConnection c = fake();
        c.throwOnDisconnect = true;
        pool.add(peer, c);

        assertTrue(pool.remove(peer));

        assertEquals(1, c.closes.get(), "close still ran after disconnect threw");
        assertEquals(0, pool.size());
    }
}
