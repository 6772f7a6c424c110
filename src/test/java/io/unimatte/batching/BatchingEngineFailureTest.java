package io.unimatte.batching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class BatchingEngineFailureTest extends EngineTestSupport {

  @Test
  void processorThrowingFailsOnlyThatBatch() throws Exception {
    IOException boom = new IOException("model exploded");
    processor.behaviour = inputs -> {
      if (inputs.contains(-1)) {
        throw boom;
      }
      return GatedProcessor.DOUBLE.apply(inputs);
    };
    start(builder().maxBatchSize(2));
    CompletableFuture<Integer> first = primeBlockedBatch(0);
    CompletableFuture<Integer> bad = submit(-1);
    CompletableFuture<Integer> badsNeighbour = submit(5);
    CompletableFuture<Integer> next1 = submit(6);
    CompletableFuture<Integer> next2 = submit(7);
    processor.open();

    assertEquals(0, await(first));
    for (CompletableFuture<Integer> f : List.of(bad, badsNeighbour)) {
      BatchFailedException e = awaitFailure(f, BatchFailedException.class, "inference_failed");
      assertSame(boom, e.getCause());
      assertEquals(2, e.batchSize());
    }
    assertEquals(12, await(next1));
    assertEquals(14, await(next2));
    assertEquals(List.of(List.of(0), List.of(-1, 5), List.of(6, 7)), processor.batches());

    EngineStats s = engine.stats();
    assertEquals(3, s.completed());
    assertEquals(2, s.failed());
    assertEquals(3, s.batches(), "a failed batch still counts as a batch");
  }

  @Test
  void wrongNumberOfOutputsFailsTheBatchCleanly() throws Exception {
    AtomicInteger call = new AtomicInteger();
    processor.behaviour = inputs -> switch (call.incrementAndGet()) {
      case 2 -> inputs.subList(0, 1); // too few
      case 3 -> {
        List<Integer> more = new ArrayList<>(GatedProcessor.DOUBLE.apply(inputs));
        more.add(99);
        yield more; // too many
      }
      case 4 -> null;
      default -> GatedProcessor.DOUBLE.apply(inputs);
    };
    start(builder().maxBatchSize(2));
    CompletableFuture<Integer> first = primeBlockedBatch(0);
    List<CompletableFuture<Integer>> fs = submitAll(1, 9);
    processor.open();

    assertEquals(0, await(first));
    for (int i = 0; i < 6; i++) {
      BatchFailedException e = awaitFailure(fs.get(i), BatchFailedException.class, "inference_failed");
      assertInstanceOf(IllegalStateException.class, e.getCause());
    }
    assertEquals(14, await(fs.get(6)), "the engine goes on after broken batches");
    assertEquals(16, await(fs.get(7)));
  }

  @Test
  void errorsInTheProcessorDoNotKillTheEngine() throws Exception {
    AtomicInteger call = new AtomicInteger();
    processor.behaviour = inputs -> {
      switch (call.incrementAndGet()) {
        case 1 -> throw new OutOfMemoryError("simulated: image too large");
        case 2 -> throw new StackOverflowError("simulated");
        default -> {
          return GatedProcessor.DOUBLE.apply(inputs);
        }
      }
    };
    start(builder().maxBatchSize(1));
    processor.open();

    BatchFailedException oom = awaitFailure(submit(1), BatchFailedException.class, "inference_failed");
    assertInstanceOf(OutOfMemoryError.class, oom.getCause());
    awaitFailure(submit(2), BatchFailedException.class, "inference_failed");
    assertEquals(6, await(submit(3)));
  }

  @Test
  void strayInterruptFromTheProcessorIsHarmless() throws Exception {
    processor.behaviour = inputs -> {
      Thread.currentThread().interrupt();
      return GatedProcessor.DOUBLE.apply(inputs);
    };
    start(builder().maxBatchDelay(java.time.Duration.ofMillis(50)).ticker(System::nanoTime));
    processor.open();
    for (int i = 0; i < 5; i++) {
      assertEquals(2 * i, await(submit(i)));
    }
  }

  @Test
  void processorCannotModifyItsInputs() throws Exception {
    processor.behaviour = inputs -> List.of(0);
    start(builder().maxBatchSize(1).processor(inputs -> {
      inputs.set(0, 99);
      return inputs;
    }));
    BatchFailedException e = awaitFailure(submit(1), BatchFailedException.class, "inference_failed");
    assertInstanceOf(UnsupportedOperationException.class, e.getCause());
  }

  @Test
  void listenerExceptionsAreContained() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    start(builder().listener(event -> {
      calls.incrementAndGet();
      throw new IllegalStateException("listener bug");
    }));
    processor.open();
    for (int i = 0; i < 5; i++) {
      assertEquals(2 * i, await(submit(i)));
    }
    assertTrue(calls.get() >= 5, "listener was still called");
  }

  @Test
  void nullArgumentsFailTheFutureInsteadOfThrowing() throws Exception {
    start(builder());
    CompletableFuture<Integer> noRef = engine.submit(null, 1);
    CompletableFuture<Integer> noInput = engine.submit(new ItemRef("job", 0), null);
    for (CompletableFuture<Integer> f : List.of(noRef, noInput)) {
      ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
          () -> f.get(WAIT_SECONDS, TimeUnit.SECONDS));
      assertInstanceOf(NullPointerException.class, e.getCause());
    }
    assertEquals(2, engine.stats().failed());
  }
}
