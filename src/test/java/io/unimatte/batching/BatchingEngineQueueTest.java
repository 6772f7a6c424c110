package io.unimatte.batching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class BatchingEngineQueueTest extends EngineTestSupport {

  @Test
  void fullQueueRejectsWithRetryAfter() throws Exception {
    start(builder().maxBatchSize(1).maxQueueSize(2));
    CompletableFuture<Integer> first = primeBlockedBatch(0);
    CompletableFuture<Integer> q1 = submit(1);
    CompletableFuture<Integer> q2 = submit(2);
    assertEquals(2, engine.queueDepth());

    QueueFullException e = awaitFailure(submit(3), QueueFullException.class, "queue_full");
    assertTrue(e.retryAfter().compareTo(Duration.ofSeconds(1)) >= 0, "retryAfter " + e.retryAfter());
    assertEquals(2, e.queueDepth());
    awaitFailure(submit(4), QueueFullException.class, "queue_full");
    assertEquals(2, engine.stats().rejected());

    processor.open();
    assertEquals(0, await(first));
    assertEquals(2, await(q1));
    assertEquals(4, await(q2));
    assertEquals(List.of(0, 1, 2), processor.processedInputs(), "rejected items never processed");
    EngineStats s = engine.stats();
    assertEquals(5, s.submitted());
    assertEquals(3, s.completed());
    assertEquals(2, s.rejected());
  }

  @Test
  void retryAfterScalesWithRecentBatchTimeAndDepth() throws Exception {
    // Every batch "takes" 10 s on the manual ticker.
    processor.behaviour = inputs -> {
      ticker.addAndGet(Duration.ofSeconds(10).toNanos());
      return GatedProcessor.DOUBLE.apply(inputs);
    };
    start(builder().maxBatchSize(2).maxQueueSize(4));
    processor.release(1);
    assertEquals(2, await(submit(1)));
    processor.awaitCall(); // consume the record of that first call
    assertEquals(Duration.ofSeconds(10).toNanos(), engine.stats().lastBatchNanos());

    primeBlockedBatch(2);
    submitAll(3, 7);
    QueueFullException e = awaitFailure(submit(7), QueueFullException.class, "queue_full");
    // 4 waiting / batches of 2 = 2 batches ahead, 10 s each.
    assertEquals(Duration.ofSeconds(20), e.retryAfter());
  }

  @Test
  void itemQueuedPastTheTimeoutFailsAndIsNotProcessed() throws Exception {
    start(builder().maxBatchSize(4).queueTimeout(Duration.ofSeconds(5)));
    CompletableFuture<Integer> first = primeBlockedBatch(0);
    CompletableFuture<Integer> stale = submit(1);
    ticker.addAndGet(Duration.ofSeconds(3).toNanos());
    CompletableFuture<Integer> fresh = submit(2);
    ticker.addAndGet(Duration.ofSeconds(3).toNanos()); // stale waited 6 s, fresh 3 s
    processor.open();

    assertEquals(0, await(first));
    QueueTimeoutException e = awaitFailure(stale, QueueTimeoutException.class, "queue_timeout");
    assertEquals(Duration.ofSeconds(6), e.waited());
    assertEquals(4, await(fresh));
    assertEquals(List.of(List.of(0), List.of(2)), processor.batches(), "expired item never processed");
    assertEquals(1, engine.stats().timedOut());
    assertEquals(List.of(new ProgressEvent(new ItemRef("job", 1), ProgressEvent.Stage.FAILED, 42, -1,
        "queue_timeout", 0)), events(ProgressEvent.Stage.FAILED));
  }

  @Test
  void expiredItemsFailEvenIfNothingElseArrives() throws Exception {
    start(builder().queueTimeout(Duration.ofSeconds(5)));
    primeBlockedBatch(0);
    List<CompletableFuture<Integer>> stale = submitAll(1, 4);
    ticker.addAndGet(Duration.ofSeconds(6).toNanos());
    processor.open();
    for (CompletableFuture<Integer> f : stale) {
      awaitFailure(f, QueueTimeoutException.class, "queue_timeout");
    }
    assertEquals(3, engine.stats().timedOut());
    assertEquals(List.of(List.of(0)), processor.batches());
  }

  @Test
  void exactlyTheTimeoutIsStillInTime() throws Exception {
    start(builder().queueTimeout(Duration.ofSeconds(5)));
    primeBlockedBatch(0);
    CompletableFuture<Integer> f = submit(1);
    ticker.addAndGet(Duration.ofSeconds(5).toNanos());
    processor.open();
    assertEquals(2, await(f));
  }

  @Test
  void cancelledItemsAreSkippedAndFreeTheirSlot() throws Exception {
    start(builder().maxBatchSize(4).maxQueueSize(2));
    CompletableFuture<Integer> first = primeBlockedBatch(0);
    CompletableFuture<Integer> cancelled = submit(1);
    CompletableFuture<Integer> kept = submit(2);
    assertTrue(cancelled.cancel(false));
    assertEquals(1, engine.queueDepth(), "cancelling removes the item from the queue");
    CompletableFuture<Integer> completedByCaller = submit(3); // fits into the freed slot
    assertTrue(completedByCaller.complete(-3));
    assertEquals(1, engine.queueDepth(), "so does completing it");
    CompletableFuture<Integer> fourth = submit(4);
    processor.open();

    assertEquals(0, await(first));
    assertEquals(4, await(kept));
    assertEquals(8, await(fourth));
    assertEquals(-3, await(completedByCaller));
    assertEquals(List.of(List.of(0), List.of(2, 4)), processor.batches());
    assertEquals(2, engine.stats().cancelled());
    assertEquals(0, engine.stats().rejected());
  }

  @Test
  void cancellingDuringProcessingOnlyDiscardsTheOutput() throws Exception {
    start(builder());
    CompletableFuture<Integer> f = primeBlockedBatch(0);
    assertTrue(f.cancel(false));
    processor.open();
    assertEquals(2, await(submit(1)));
    assertTrue(f.isCancelled());
    assertEquals(1, engine.stats().cancelled());
    assertFalse(engine.stats().completed() > 1);
  }
}
