package io.unimatte.batching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class BatchingEngineBuilderTest {

  private static BatchingEngine.Builder<Integer, Integer> builder() {
    return BatchingEngine.builder();
  }

  private static void assertRejected(String knob, Consumer<BatchingEngine.Builder<Integer, Integer>> setter) {
    Executable call = () -> setter.accept(builder());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call, knob);
    assertTrue(e.getMessage().contains(knob), () -> "message should name " + knob + ": " + e.getMessage());
  }

  @Test
  void rejectsBadValuesNamingTheSetting() {
    assertRejected("maxBatchSize", b -> b.maxBatchSize(0));
    assertRejected("maxBatchSize", b -> b.maxBatchSize(-3));
    assertRejected("maxBatchDelay", b -> b.maxBatchDelay(Duration.ofMillis(-1)));
    assertRejected("maxQueueSize", b -> b.maxQueueSize(0));
    assertRejected("queueTimeout", b -> b.queueTimeout(Duration.ZERO));
    assertRejected("queueTimeout", b -> b.queueTimeout(Duration.ofSeconds(-1)));
    assertRejected("name", b -> b.name("  "));
  }

  @Test
  void rejectsNulls() {
    List<Consumer<BatchingEngine.Builder<Integer, Integer>>> setters = List.of(
        b -> b.maxBatchDelay(null), b -> b.queueTimeout(null), b -> b.processor(null),
        b -> b.listener(null), b -> b.ticker(null), b -> b.clock(null), b -> b.threadFactory(null),
        b -> b.name(null));
    for (Consumer<BatchingEngine.Builder<Integer, Integer>> setter : setters) {
      assertThrows(NullPointerException.class, () -> setter.accept(builder()));
    }
  }

  @Test
  void acceptsBoundaryValues() throws Exception {
    try (BatchingEngine<Integer, Integer> engine = builder()
        .maxBatchSize(1).maxBatchDelay(Duration.ZERO).maxQueueSize(1).queueTimeout(Duration.ofNanos(1))
        .processor(inputs -> inputs).build()) {
      assertEquals(0, engine.queueDepth());
      assertEquals(2, engine.stats().batchSizeHistogram().length);
    }
  }

  @Test
  void hugeDurationsDoNotOverflow() throws Exception {
    try (BatchingEngine<Integer, Integer> engine = builder()
        .maxBatchDelay(Duration.ofSeconds(Long.MAX_VALUE)).queueTimeout(Duration.ofSeconds(Long.MAX_VALUE))
        .maxBatchSize(1).processor(inputs -> inputs).build()) {
      assertEquals(7, engine.submit(new ItemRef("j", 0), 7).get());
    }
  }

  @Test
  void buildRequiresAProcessor() {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> builder().build());
    assertTrue(e.getMessage().contains("processor"));
  }

  @Test
  void buildFailsIfTheThreadFactoryDeclines() {
    assertThrows(IllegalStateException.class,
        () -> builder().processor(inputs -> inputs).threadFactory(r -> null).build());
  }

  @Test
  void defaultsMatchTheNamedConstants() throws Exception {
    try (BatchingEngine<Integer, Integer> engine = builder().processor(inputs -> inputs).build()) {
      assertEquals(BatchingEngine.DEFAULT_MAX_BATCH_SIZE + 1, engine.stats().batchSizeHistogram().length);
      assertEquals(5, engine.submit(new ItemRef("j", 0), 5).get());
    }
  }
}
