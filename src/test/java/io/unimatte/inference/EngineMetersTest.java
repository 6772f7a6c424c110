package io.unimatte.inference;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.unimatte.batching.EngineStats;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A model's meters sum its engines, and keep a stopped engine's counts so counters never go back. */
class EngineMetersTest {
  private static final int MAX_BATCH = 2;

  /** {@code completed} images in {@code batchesOf2} batches of two, {@code queued} waiting. */
  private static EngineStats stats(long completed, long batchesOf2, int queued) {
    return new EngineStats(completed + queued, completed, 0, 0, 0, 0, batchesOf2, completed, MAX_BATCH,
        new long[] {0, 0, batchesOf2}, 0, 0, queued, 0);
  }

  private static double counter(MeterRegistry registry, String name, String... tags) {
    return registry.get(name).tags("model", "m").tags(tags).functionCounter().count();
  }

  @Test
  void sumsEnginesAndKeepsStoppedCounts() {
    MeterRegistry registry = new SimpleMeterRegistry();
    EngineStats[] a = {stats(4, 2, 1)};
    Supplier<EngineStats> engineA = () -> a[0];
    Supplier<EngineStats> engineB = () -> stats(6, 3, 2);
    EngineMeters meters = EngineMeters.attach(registry, "m", engineA, MAX_BATCH);
    EngineMeters.attach(registry, "m", engineB, MAX_BATCH);

    assertEquals(10, counter(registry, "unimatte.images.completed"));
    assertEquals(5, counter(registry, "unimatte.batch.size", "size", "2"));
    assertEquals(0, counter(registry, "unimatte.batch.size", "size", "1"));
    assertEquals(3, registry.get("unimatte.queue.depth").tags("model", "m").gauge().value());

    a[0] = stats(8, 4, 0); // engine A finishes its queue, then stops
    meters.detach(engineA);
    a[0] = stats(0, 0, 0); // a stopped engine is not read again
    assertEquals(14, counter(registry, "unimatte.images.completed"));
    assertEquals(2, registry.get("unimatte.queue.depth").tags("model", "m").gauge().value());

    meters.recordCall(TimeUnit.MILLISECONDS.toNanos(30));
    assertEquals(1, registry.get("unimatte.inference").tags("model", "m").timer().count());
  }
}
