package io.unimatte.batching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.unimatte.batching.ProgressEvent.Stage;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class ProgressEventsTest extends EngineTestSupport {

  private static ItemRef ref(int i) {
    return new ItemRef("job", i);
  }

  @Test
  void inferringEventPerItemCarriesItsBatchSize() throws Exception {
    start(builder().maxBatchSize(3));
    CompletableFuture<Integer> first = primeBlockedBatch(0);
    List<CompletableFuture<Integer>> rest = submitAll(1, 6);
    processor.open();
    await(first);
    for (CompletableFuture<Integer> f : rest) {
      await(f);
    }

    List<ProgressEvent> inferring = events(Stage.INFERRING);
    assertEquals(6, inferring.size());
    Map<Integer, Integer> batchSizeByIndex = inferring.stream()
        .collect(Collectors.toMap(e -> e.ref().index(), ProgressEvent::batchSize));
    assertEquals(Map.of(0, 1, 1, 3, 2, 3, 3, 3, 4, 2, 5, 2), batchSizeByIndex);
    for (ProgressEvent e : inferring) {
      assertEquals(42, e.timestampMillis(), "timestamps come from the injected clock");
      assertEquals(-1, e.queuePosition());
      assertEquals(null, e.errorCode());
    }
    assertEquals(List.of(), events(Stage.FAILED));
    assertEquals(6, events.size(), "the engine emits nothing but INFERRING on success");
  }

  @Test
  void failedEventsCarryTheEngineErrorCodes() throws Exception {
    processor.behaviour = inputs -> {
      if (inputs.contains(1)) {
        throw new IllegalStateException("bad batch");
      }
      return GatedProcessor.DOUBLE.apply(inputs);
    };
    start(builder().maxBatchSize(1).maxQueueSize(2).queueTimeout(Duration.ofSeconds(5)));
    CompletableFuture<Integer> first = primeBlockedBatch(0);
    CompletableFuture<Integer> expires = submit(2);
    ticker.addAndGet(Duration.ofSeconds(6).toNanos());
    CompletableFuture<Integer> throwsInProcessor = submit(1);
    awaitFailure(submit(3), QueueFullException.class, "queue_full");
    processor.open();

    assertEquals(0, await(first));
    awaitFailure(expires, QueueTimeoutException.class, "queue_timeout");
    awaitFailure(throwsInProcessor, BatchFailedException.class, "inference_failed");
    engine.shutdown(Duration.ZERO).get();
    awaitFailure(submit(4), EngineShutdownException.class, "shutting_down");

    Map<Integer, String> codes = events(Stage.FAILED).stream()
        .collect(Collectors.toMap(e -> e.ref().index(), ProgressEvent::errorCode));
    assertEquals(Map.of(3, "queue_full", 2, "queue_timeout", 1, "inference_failed", 4, "shutting_down"),
        codes);
    assertEquals(List.of(0, 1), events(Stage.INFERRING).stream().map(e -> e.ref().index()).toList(),
        "expired and rejected items never reach INFERRING");
  }

  @Test
  void eventsValidateTheirFields() {
    assertThrows(IllegalArgumentException.class,
        () -> new ProgressEvent(ref(0), Stage.FAILED, 0, -1, null, 0), "FAILED needs a code");
    assertThrows(IllegalArgumentException.class,
        () -> new ProgressEvent(ref(0), Stage.DONE, 0, -1, "queue_full", 0), "only FAILED has a code");
    assertThrows(IllegalArgumentException.class,
        () -> new ProgressEvent(ref(0), Stage.QUEUED, 0, -2, null, 0));
    assertThrows(IllegalArgumentException.class,
        () -> new ProgressEvent(ref(0), Stage.INFERRING, 0, -1, null, -1));
    assertThrows(NullPointerException.class, () -> ProgressEvent.of(null, Stage.DONE, 0));
    assertThrows(IllegalArgumentException.class, () -> new ItemRef("job", -1));
    assertEquals(new ProgressEvent(ref(1), Stage.DECODED, 7, -1, null, 0),
        ProgressEvent.of(ref(1), Stage.DECODED, 7));
    assertEquals(new ProgressEvent(ref(1), Stage.FAILED, 7, -1, "x", 0),
        ProgressEvent.failed(ref(1), "x", 7));
  }
}
