package io.unimatte.batching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Timeout;

/**
 * Many submitters, random cancellations, an occasionally failing processor, a small queue, a short queue
 * timeout and a shutdown in the middle: whatever the interleaving, every future settles exactly once, no
 * item is processed twice, and the counters add up.
 */
@Timeout(60)
class BatchingEngineConcurrencyTest {

  private static final int THREADS = 4;
  private static final int PER_THREAD = 400;

  @RepeatedTest(3)
  void everyFutureSettlesAndCountersAddUp() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    Map<Integer, Integer> timesProcessed = new ConcurrentHashMap<>();
    BatchingEngine<Integer, Integer> engine = BatchingEngine.<Integer, Integer>builder()
        .maxBatchSize(8).maxBatchDelay(Duration.ofMillis(1)).maxQueueSize(32)
        .queueTimeout(Duration.ofMillis(3))
        .processor(inputs -> {
          inputs.forEach(i -> timesProcessed.merge(i, 1, Integer::sum));
          if (calls.get() % 5 == 0) {
            Thread.sleep(2); // now and then slow enough for queued items to expire
          }
          if (calls.incrementAndGet() % 17 == 0) {
            throw new IllegalStateException("every 17th batch fails");
          }
          return inputs.stream().map(i -> i * 2).toList();
        })
        .build();

    List<List<CompletableFuture<Integer>>> perThread = new ArrayList<>();
    CountDownLatch go = new CountDownLatch(1);
    CountDownLatch halfway = new CountDownLatch(THREADS);
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      List<CompletableFuture<Integer>> mine = new ArrayList<>();
      perThread.add(mine);
      int base = t * PER_THREAD;
      Thread thread = new Thread(() -> {
        try {
          go.await();
          for (int i = 0; i < PER_THREAD; i++) {
            CompletableFuture<Integer> f = engine.submit(new ItemRef("job", base + i), base + i);
            mine.add(f);
            if (ThreadLocalRandom.current().nextInt(10) == 0) {
              f.cancel(false);
            }
            if (i == PER_THREAD / 2) {
              halfway.countDown();
            }
            if (i % 16 == 0) {
              Thread.yield();
            }
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      threads.add(thread);
      thread.start();
    }
    go.countDown();
    halfway.await(30, TimeUnit.SECONDS);
    CompletableFuture<Void> terminated = engine.shutdown(Duration.ofMillis(5));
    for (Thread thread : threads) {
      thread.join(TimeUnit.SECONDS.toMillis(30));
    }
    terminated.get(30, TimeUnit.SECONDS);

    long ok = 0;
    for (List<CompletableFuture<Integer>> mine : perThread) {
      for (CompletableFuture<Integer> f : mine) {
        assertTrue(f.isDone(), "future left pending");
        if (f.isCancelled()) {
          continue;
        }
        try {
          Integer out = f.get();
          ok++;
          assertEquals(0, out % 2);
          assertEquals(1, timesProcessed.get(out / 2), "processed exactly once");
        } catch (ExecutionException e) {
          assertInstanceOf(EngineException.class, e.getCause());
        }
      }
    }
    timesProcessed.values().forEach(n -> assertEquals(1, n, "no item is processed twice"));

    EngineStats s = engine.stats();
    assertEquals(THREADS * PER_THREAD, s.submitted());
    assertEquals(ok, s.completed());
    assertEquals(0, s.pending(), s::toString);
    assertEquals(s.submitted(), s.completed() + s.failed() + s.rejected() + s.timedOut() + s.cancelled(),
        s::toString);
    assertTrue(s.maxBatchSeen() <= 8);
  }
}
