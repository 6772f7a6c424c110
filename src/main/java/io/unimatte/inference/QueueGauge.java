package io.unimatte.inference;

import io.unimatte.batching.BatchingEngine;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;
import java.util.concurrent.atomic.LongAdder;

/**
 * The live fill of one model's batching queue in this process, published by its {@link InferenceVerticle}
 * in the local map {@link #MAP}, so that the HTTP layer can refuse an upload before reading its body when
 * the queue would refuse the image anyway.
 */
public final class QueueGauge implements Shareable {
  /** Local shared map: model name → its gauge. */
  public static final String MAP = "unimatte.queues";
  private static final double NANOS_PER_SECOND = 1e9;

  private final BatchingEngine<?, ?> engine;
  private final int capacity;
  private final int maxBatch;
  private final LongAdder refusedBeforeUpload = new LongAdder();

  QueueGauge(BatchingEngine<?, ?> engine, int capacity, int maxBatch) {
    this.engine = engine;
    this.capacity = capacity;
    this.maxBatch = maxBatch;
  }

  /**
   * When {@code model}'s queue in this process is full now: a rough number of seconds until it has room
   * (at least 1, from the mean batch time), counted as a refusal, since the caller refuses the upload with
   * {@code queue_full} ({@code /health} and the metrics count it with the queue's own refusals); else 0
   * (room, or no local queue for that model).
   */
  public static long refuseIfFull(Vertx vertx, String model) {
    QueueGauge g = vertx.sharedData().<String, QueueGauge>getLocalMap(MAP).get(model);
    if (g == null) {
      return 0;
    }
    int depth = g.engine.queueDepth();
    if (depth < g.capacity) {
      return 0;
    }
    g.refusedBeforeUpload.increment();
    double batchNanos = g.engine.stats().meanBatchNanos();
    long batchesAhead = (depth + g.maxBatch - 1L) / g.maxBatch;
    return Math.max(1, (long) Math.ceil(batchNanos * batchesAhead / NANOS_PER_SECOND));
  }

  /** Uploads refused with {@code queue_full} before their body was read. */
  long refusedBeforeUpload() {
    return refusedBeforeUpload.sum();
  }
}
