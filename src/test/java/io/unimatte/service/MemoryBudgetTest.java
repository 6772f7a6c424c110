package io.unimatte.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unimatte.error.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The admission of {@link MemoryBudget}: in arrival order while the images fit, 503 or 413 otherwise. */
class MemoryBudgetTest {
  private static final long MB = 1024 * 1024;
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static <T> T done(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static ErrorCode failure(Future<?> f) throws Exception {
    try {
      f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      return ((MatteException) e.getCause()).error();
    }
    throw new AssertionError("admitted");
  }

  @Test
  void imagesWaitInArrivalOrderForRoom() throws Exception {
    MemoryBudget budget = MemoryBudget.withCapacity(vertx, 100 * MB, 10_000, 8);
    MemoryBudget.Permit a = done(budget.acquire(60 * MB));
    MemoryBudget.Permit b = done(budget.acquire(40 * MB));
    Future<MemoryBudget.Permit> big = budget.acquire(70 * MB);
    Future<MemoryBudget.Permit> small = budget.acquire(10 * MB);
    assertFalse(big.isComplete());
    assertFalse(small.isComplete(), "a small image does not overtake the large one that came first");
    assertEquals(2, budget.waitingImages());
    a.release();
    assertFalse(big.isComplete(), "40 + 70 do not fit in 100");
    assertFalse(small.isComplete(), "still behind the large one");
    b.release();
    assertTrue(done(big) != null);
    assertTrue(done(small) != null, "70 + 10 fit");
    assertEquals(80 * MB, budget.inFlightBytes());
    assertEquals(1, budget.counts()[0] - 3, "four admitted in all");
  }

  @Test
  void aLongWaitEndsIn503WithRetryAfter() throws Exception {
    MemoryBudget budget = MemoryBudget.withCapacity(vertx, 100 * MB, 200, 8);
    MemoryBudget.Permit held = done(budget.acquire(90 * MB));
    Future<MemoryBudget.Permit> late = budget.acquire(20 * MB);
    try {
      done(late);
      throw new AssertionError("admitted");
    } catch (java.util.concurrent.ExecutionException e) {
      MatteException me = (MatteException) e.getCause();
      assertEquals(ErrorCode.MEMORY_BUSY, me.error());
      assertEquals(503, me.error().status());
      assertEquals(MemoryBudget.RETRY_AFTER_SECONDS, me.retryAfterSecs());
    }
    held.release();
    held.release(); // twice: harmless
    assertEquals(0, budget.inFlightBytes());
    assertEquals(0, budget.waitingImages());
  }

  @Test
  void tooManyWaitingAndTooLargeAreRefusedAtOnce() throws Exception {
    MemoryBudget budget = MemoryBudget.withCapacity(vertx, 100 * MB, 10_000, 1);
    done(budget.acquire(100 * MB));
    Future<MemoryBudget.Permit> first = budget.acquire(10 * MB);
    assertEquals(ErrorCode.MEMORY_BUSY, failure(budget.acquire(10 * MB)), "only one may wait");
    assertEquals(ErrorCode.IMAGE_TOO_LARGE, failure(budget.acquire(101 * MB)), "waiting would not help");
    assertFalse(first.isComplete());
    assertEquals(1, budget.counts()[2]);
    assertEquals(1, budget.counts()[3]);
  }

  @Test
  void theDefaultBudgetIsAShareOfTheMachine() {
    assertEquals(3L << 30, MemoryBudget.resolve(0, 4L << 30));
    assertEquals(123, MemoryBudget.resolve(123, 4L << 30));
    assertEquals(Long.MAX_VALUE, MemoryBudget.resolve(0, -1));
    assertEquals(12_000_000L * MemoryBudget.BYTES_PER_PIXEL, MemoryBudget.cost(12_000_000));
    assertEquals(0, MemoryBudget.cost(-1));
  }

  /**
   * The heap's room is counted in pixels at {@link MemoryBudget#HEAP_BYTES_PER_PIXEL} and expressed in the unit
   * of {@link MemoryBudget#cost}: a heap of H bytes takes H / 28 pixels, whose cost is 40 bytes each.
   */
  @Test
  void theHeapIsReckonedAtItsOwnRatePerPixel() {
    MemoryBudget budget = MemoryBudget.create(vertx, 1L << 40, 0, 1000, 1);
    java.lang.management.MemoryMXBean heap = java.lang.management.ManagementFactory.getMemoryMXBean();
    long max = heap.getHeapMemoryUsage().getMax();
    long used = heap.getHeapMemoryUsage().getUsed();
    long room = budget.capacity();
    long rate = MemoryBudget.BYTES_PER_PIXEL;
    long heapRate = MemoryBudget.HEAP_BYTES_PER_PIXEL;
    assertTrue(room <= max / heapRate * rate, "room " + room + " for a heap of " + max);
    assertTrue(room >= (max - used - 128 * MB) / heapRate * rate, "room " + room + " for a heap of " + max
        + " with " + used + " used");
    long pixels = room / rate;
    assertTrue(pixels * heapRate <= max, "the admitted pixels fit in the heap at " + heapRate + " bytes each");
  }
}
