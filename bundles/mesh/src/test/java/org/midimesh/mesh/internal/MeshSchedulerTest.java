package org.midimesh.mesh.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.midimesh.common.NamedThreadFactory;

@Timeout(10)
class MeshSchedulerTest {

    final ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1,
            new NamedThreadFactory("test-mesh", true));
    final MeshScheduler scheduler = new MeshScheduler(executor);
    final List<String> ran = new CopyOnWriteArrayList<>();

    @AfterEach
    void tearDown() throws InterruptedException {
        executor.shutdownNow();
        assertTrue(executor.awaitTermination(5, TimeUnit.SECONDS));
    }

    @Test
    void shouldGoOnAfterATaskFails() {
        scheduler.execute(() -> {
            throw new IllegalStateException("expected by the test");
        });
        scheduler.execute(() -> {
            throw new AssertionError("expected by the test");
        });
        scheduler.execute(() -> ran.add("after"));
        scheduler.schedule(() -> ran.add("later"), 1);
        await().atMost(Duration.ofSeconds(5)).until(() -> ran.size() == 2);
        assertEquals(List.of("after", "later"), ran);
    }

    @Test
    void shouldTakeNoWorkOnceClosed() {
        scheduler.close();
        scheduler.execute(() -> ran.add("now"));
        assertNull(scheduler.schedule(() -> ran.add("later"), 0));
        assertTrue(scheduler.closing());
        assertEquals(0, executor.getTaskCount());
    }

    @Test
    void shouldDropWorkOnceThePoolStopped() {
        executor.shutdownNow();
        scheduler.execute(() -> ran.add("now"));
        assertNull(scheduler.schedule(() -> ran.add("later"), 0));
        assertTrue(ran.isEmpty());
    }
}
