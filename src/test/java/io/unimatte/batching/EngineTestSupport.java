package io.unimatte.batching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;

/** Shared fixtures: a steerable processor, a manual ticker, an event recorder, and a post-test audit. */
abstract class EngineTestSupport {

  static final long WAIT_SECONDS = 5;

  final GatedProcessor processor = new GatedProcessor();
  final AtomicLong ticker = new AtomicLong(1_000_000_000L);
  final ConcurrentLinkedQueue<ProgressEvent> events = new ConcurrentLinkedQueue<>();
  final List<CompletableFuture<Integer>> allFutures = new ArrayList<>();
  BatchingEngine<Integer, Integer> engine;

  /** Defaults for tests: generous limits, manual ticker, and the steerable processor. */
  BatchingEngine.Builder<Integer, Integer> builder() {
    return BatchingEngine.<Integer, Integer>builder()
        .name("test-engine")
        .maxBatchSize(4)
        .maxBatchDelay(Duration.ZERO)
        .maxQueueSize(100)
        .queueTimeout(Duration.ofHours(1))
        .ticker(ticker::get)
        .clock(() -> 42L)
        .listener(events::add)
        .processor(processor);
  }

  BatchingEngine<Integer, Integer> start(BatchingEngine.Builder<Integer, Integer> builder) {
    engine = builder.build();
    return engine;
  }

  CompletableFuture<Integer> submit(int value) {
    CompletableFuture<Integer> f = engine.submit(new ItemRef("job", Math.abs(value)), value);
    allFutures.add(f);
    return f;
  }

  List<CompletableFuture<Integer>> submitAll(int fromInclusive, int toExclusive) {
    List<CompletableFuture<Integer>> fs = new ArrayList<>();
    for (int i = fromInclusive; i < toExclusive; i++) {
      fs.add(submit(i));
    }
    return fs;
  }

  /** Submits one item and waits until the processor is blocked on it, so later items queue up. */
  CompletableFuture<Integer> primeBlockedBatch(int value) throws InterruptedException {
    CompletableFuture<Integer> f = submit(value);
    assertEquals(List.of(value), processor.awaitCall());
    return f;
  }

  static <T> T await(CompletableFuture<T> f) throws Exception {
    return f.get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  /** Waits for {@code f} to fail and returns the cause, asserting its type and code. */
  static <E extends EngineException> E awaitFailure(CompletableFuture<?> f, Class<E> type, String code)
      throws Exception {
    try {
      Object value = f.get(WAIT_SECONDS, TimeUnit.SECONDS);
      return fail("expected " + type.getSimpleName() + " but completed with " + value);
    } catch (ExecutionException e) {
      E cause = assertInstanceOf(type, e.getCause());
      assertEquals(code, cause.code());
      return cause;
    } catch (TimeoutException e) {
      return fail("future still pending after " + WAIT_SECONDS + " s");
    }
  }

  static void awaitCondition(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        fail("timed out waiting for " + what);
      }
      Thread.sleep(2);
    }
  }

  List<ProgressEvent> events(ProgressEvent.Stage stage) {
    return events.stream().filter(e -> e.stage() == stage).toList();
  }

  /**
   * After every test: let anything blocked finish, shut down, and check that no future was left pending
   * and that the counters account for every submission.
   */
  @AfterEach
  void auditAndClose() throws Exception {
    processor.open();
    if (engine == null) {
      return;
    }
    engine.shutdown(Duration.ofSeconds(WAIT_SECONDS)).get(2 * WAIT_SECONDS, TimeUnit.SECONDS);
    for (CompletableFuture<Integer> f : allFutures) {
      assertTrue(f.isDone(), "a submitted future was left pending");
    }
    EngineStats s = engine.stats();
    assertEquals(0, s.pending(), s::toString);
    assertEquals(s.submitted(), s.completed() + s.failed() + s.rejected() + s.timedOut() + s.cancelled(),
        () -> "every submission settles exactly once: " + s);
    assertEquals(s.itemsInBatches(), sumSizes(s.batchSizeHistogram()), s::toString);
  }

  private static long sumSizes(long[] histogram) {
    long sum = 0;
    for (int size = 0; size < histogram.length; size++) {
      sum += size * histogram[size];
    }
    return sum;
  }
}
