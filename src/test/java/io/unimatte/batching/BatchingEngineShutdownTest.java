package io.unimatte.batching;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class BatchingEngineShutdownTest extends EngineTestSupport {

  @Test
  void withEnoughGraceEverythingQueuedIsCompleted() throws Exception {
    start(builder().maxBatchSize(2));
    CompletableFuture<Integer> first = primeBlockedBatch(0);
    List<CompletableFuture<Integer>> queued = submitAll(1, 7);

    CompletableFuture<Void> terminated = engine.shutdown(Duration.ofMinutes(5));
    assertFalse(terminated.isDone(), "the batch in progress keeps the engine alive");
    awaitFailure(submit(99), EngineShutdownException.class, "shutting_down");

    processor.open();
    assertNull(terminated.get(WAIT_SECONDS, TimeUnit.SECONDS));
    assertEquals(0, await(first));
    for (int i = 1; i < 7; i++) {
      assertEquals(2 * i, await(queued.get(i - 1)));
    }
    EngineStats s = engine.stats();
    assertEquals(7, s.completed());
    assertEquals(1, s.failed(), "only the late submission");
    assertEquals(0, s.queueDepth());
  }

  @Test
  void withZeroGraceTheQueuedRemainderFailsWhileTheBatchRuns() throws Exception {
    start(builder().maxBatchSize(2));
    CompletableFuture<Integer> inProgress = primeBlockedBatch(0);
    List<CompletableFuture<Integer>> queued = submitAll(1, 6);

    CompletableFuture<Void> terminated = engine.shutdown(Duration.ZERO);
    // The processor is still blocked, yet the queued items learn their fate right away.
    for (CompletableFuture<Integer> f : queued) {
      awaitFailure(f, EngineShutdownException.class, "shutting_down");
    }
    assertEquals(0, engine.queueDepth());
    assertFalse(terminated.isDone());
    assertFalse(inProgress.isDone());

    processor.open();
    assertNull(terminated.get(WAIT_SECONDS, TimeUnit.SECONDS));
    assertEquals(0, await(inProgress), "a batch already handed to the processor runs to completion");
    assertEquals(List.of(List.of(0)), processor.batches());
    assertEquals(5, engine.stats().failed());
  }

  @Test
  void graceIsMeasuredWithTheTicker() throws Exception {
    start(builder().maxBatchSize(1));
    CompletableFuture<Integer> inProgress = primeBlockedBatch(0);
    List<CompletableFuture<Integer>> queued = submitAll(1, 4);
    CompletableFuture<Void> terminated = engine.shutdown(Duration.ofSeconds(10));

    ticker.addAndGet(Duration.ofSeconds(4).toNanos());
    processor.release(1);
    assertEquals(0, await(inProgress));
    assertEquals(List.of(1), processor.awaitCall(), "still within grace: next batch runs");
    ticker.addAndGet(Duration.ofSeconds(7).toNanos()); // 11 s after shutdown
    processor.release(1);

    assertEquals(2, await(queued.get(0)));
    awaitFailure(queued.get(1), EngineShutdownException.class, "shutting_down");
    awaitFailure(queued.get(2), EngineShutdownException.class, "shutting_down");
    assertNull(terminated.get(WAIT_SECONDS, TimeUnit.SECONDS));
    assertEquals(List.of(List.of(0), List.of(1)), processor.batches());
  }

  @Test
  void graceRunsOutInRealTimeEvenIfTheProcessorIsStuck() throws Exception {
    start(builder().ticker(System::nanoTime));
    primeBlockedBatch(0);
    List<CompletableFuture<Integer>> queued = submitAll(1, 3);
    CompletableFuture<Void> terminated = engine.shutdown(Duration.ofMillis(100));
    for (CompletableFuture<Integer> f : queued) {
      awaitFailure(f, EngineShutdownException.class, "shutting_down");
    }
    assertFalse(terminated.isDone());
  }

  @Test
  void aLaterShutdownCanShortenTheGrace() throws Exception {
    start(builder());
    primeBlockedBatch(0);
    CompletableFuture<Integer> queued = submit(1);
    CompletableFuture<Void> first = engine.shutdown(Duration.ofHours(1));
    CompletableFuture<Void> second = engine.shutdown(Duration.ZERO);
    assertNotSame(first, second, "callers get their own copy");
    awaitFailure(queued, EngineShutdownException.class, "shutting_down");
    processor.open();
    assertNull(first.get(WAIT_SECONDS, TimeUnit.SECONDS));
    assertNull(second.get(WAIT_SECONDS, TimeUnit.SECONDS));
    assertTrue(engine.shutdown(Duration.ofHours(1)).isDone(), "shutting down again is a no-op");
  }

  @Test
  void shutdownDoesNotWaitOutTheBatchDelay() throws Exception {
    start(builder().maxBatchDelay(Duration.ofSeconds(30)).ticker(System::nanoTime));
    processor.open();
    CompletableFuture<Integer> f = submit(1);
    awaitCondition("item taken", () -> engine.queueDepth() == 0);
    assertTimeoutPreemptively(Duration.ofSeconds(3), () -> {
      engine.shutdown(Duration.ofMinutes(1)).join();
      assertEquals(2, await(f));
    });
  }

  @Test
  void submitAfterCloseFailsAndCloseIsIdempotent() throws Exception {
    start(builder());
    processor.open();
    assertEquals(2, await(submit(1)));
    engine.close();
    engine.close();
    awaitFailure(submit(2), EngineShutdownException.class, "shutting_down");
    assertEquals(1, engine.stats().failed());
    assertEquals(List.of(List.of(1)), processor.batches());
  }

  @Test
  void closeFromInsideTheProcessorDoesNotDeadlock() throws Exception {
    start(builder().maxBatchSize(1));
    processor.behaviour = inputs -> {
      engine.close();
      return GatedProcessor.DOUBLE.apply(inputs);
    };
    CompletableFuture<Integer> first = primeBlockedBatch(0);
    CompletableFuture<Integer> queued = submit(1);
    processor.open();
    assertEquals(0, await(first));
    awaitFailure(queued, EngineShutdownException.class, "shutting_down");
  }

  @Test
  void closeWithNothingQueuedReturnsPromptly() {
    start(builder());
    assertTimeoutPreemptively(Duration.ofSeconds(3), () -> engine.close());
  }

  @Test
  void negativeGraceIsRejected() {
    start(builder());
    processor.open();
    assertThrows(IllegalArgumentException.class, () -> engine.shutdown(Duration.ofSeconds(-1)));
    assertThrows(NullPointerException.class, () -> engine.shutdown(null));
    assertDoesNotThrow(() -> engine.submit(new ItemRef("j", 0), 1).get(WAIT_SECONDS, TimeUnit.SECONDS));
  }
}
