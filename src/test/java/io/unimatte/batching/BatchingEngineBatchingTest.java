package io.unimatte.batching;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class BatchingEngineBatchingTest extends EngineTestSupport {

  @Test
  void twentyItemsFormBatchesAndEachFutureGetsItsOwnOutput() throws Exception {
    start(builder().maxBatchSize(4));
    CompletableFuture<Integer> first = primeBlockedBatch(0);
    List<CompletableFuture<Integer>> rest = submitAll(1, 20);
    assertEquals(19, engine.queueDepth());

    processor.open();

    assertEquals(0, await(first));
    for (int i = 1; i < 20; i++) {
      assertEquals(2 * i, await(rest.get(i - 1)), "output of item " + i);
    }
    // The 19 queued items were taken greedily: 4 + 4 + 4 + 4 + 3.
    assertEquals(List.of(List.of(0), List.of(1, 2, 3, 4), List.of(5, 6, 7, 8), List.of(9, 10, 11, 12),
        List.of(13, 14, 15, 16), List.of(17, 18, 19)), processor.batches());
    assertEquals(IntStream.range(0, 20).boxed().toList(), processor.processedInputs(),
        "each item processed exactly once, in order");

    EngineStats s = engine.stats();
    assertEquals(20, s.submitted());
    assertEquals(20, s.completed());
    assertEquals(6, s.batches());
    assertEquals(20, s.itemsInBatches());
    assertEquals(4, s.maxBatchSeen());
    assertTrue(s.maxBatchSeen() > 1);
    assertArrayEquals(new long[] {0, 1, 0, 1, 4}, s.batchSizeHistogram());
    assertEquals(20.0 / 6, s.meanBatchSize(), 1e-9);
    assertEquals(0, s.queueDepth());
  }

  @Test
  void outputsFollowInputOrderWhateverTheValues() throws Exception {
    processor.behaviour = inputs -> inputs.stream().map(i -> 1000 - i).toList();
    start(builder().maxBatchSize(8));
    CompletableFuture<Integer> first = primeBlockedBatch(500);
    List<CompletableFuture<Integer>> rest = List.of(submit(7), submit(3), submit(9), submit(1));
    processor.open();
    assertEquals(500, await(first));
    assertEquals(List.of(993, 997, 991, 999), List.of(await(rest.get(0)), await(rest.get(1)),
        await(rest.get(2)), await(rest.get(3))));
  }

  @Test
  void takesWhatIsQueuedAtOnceWithoutWaitingForTheDelay() throws Exception {
    // A 10 s delay: if the engine waited for it, the 3 s limit below would fail the test.
    start(builder().maxBatchSize(4).maxBatchDelay(Duration.ofSeconds(10)).ticker(System::nanoTime));
    CompletableFuture<Integer> first = submit(100);
    // The first batch fills up from items arriving within the delay, and starts as soon as it is full.
    List<CompletableFuture<Integer>> fillers = submitAll(101, 104);
    assertEquals(List.of(100, 101, 102, 103), processor.awaitCall());
    List<CompletableFuture<Integer>> queued = submitAll(0, 4);

    assertTimeoutPreemptively(Duration.ofSeconds(3), () -> {
      processor.release(1);
      assertEquals(List.of(0, 1, 2, 3), processor.awaitCall(), "queued items taken as one batch at once");
      processor.release(1);
      for (int i = 0; i < 4; i++) {
        assertEquals(2 * i, await(queued.get(i)));
      }
    });
    assertEquals(200, await(first));
    assertEquals(206, await(fillers.get(2)));
    assertEquals(2, engine.stats().batchesOfSize(4));
  }

  @Test
  void waitsForTheRemainderWithinTheDelay() throws Exception {
    start(builder().maxBatchSize(2).maxBatchDelay(Duration.ofSeconds(10)).ticker(System::nanoTime));
    processor.open();
    CompletableFuture<Integer> a = submit(1);
    // Once the engine has taken the first item it waits up to 10 s for a second one.
    awaitCondition("first item taken", () -> engine.queueDepth() == 0);
    assertEquals(List.of(), processor.batches());
    CompletableFuture<Integer> b = submit(2);

    assertEquals(2, await(a));
    assertEquals(4, await(b));
    assertEquals(List.of(List.of(1, 2)), processor.batches());
  }

  @Test
  void zeroDelayNeverWaitsForMoreItems() throws Exception {
    start(builder().maxBatchSize(4).maxBatchDelay(Duration.ZERO));
    processor.open();
    assertTimeoutPreemptively(Duration.ofSeconds(3), () -> assertEquals(6, await(submit(3))));
    assertEquals(List.of(List.of(3)), processor.batches());
  }

  @Test
  void processorRunsOnTheEngineThreadFromTheFactory() throws Exception {
    AtomicInteger created = new AtomicInteger();
    start(builder().threadFactory(r -> {
      created.incrementAndGet();
      Thread t = new Thread(r, "custom-factory-thread");
      t.setDaemon(true);
      return t;
    }));
    processor.open();
    await(submit(1));
    await(submit(2));
    assertEquals(1, created.get());
    assertEquals("custom-factory-thread", processor.lastThread.getName());
  }

  @Test
  void defaultThreadIsANamedDaemon() throws Exception {
    start(builder().name("matte-infer"));
    processor.open();
    await(submit(1));
    Thread t = processor.lastThread;
    assertEquals("matte-infer", t.getName());
    assertTrue(t.isDaemon());
  }

  @Test
  void futuresCompleteWithTheSameInstanceTheProcessorReturned() throws Exception {
    Integer big = 123_456_789; // outside the Integer cache
    processor.behaviour = inputs -> List.of(big);
    start(builder().maxBatchSize(1));
    processor.open();
    assertSame(big, await(submit(5)));
  }
}
