package io.unimatte.batching;

import java.util.Arrays;

/**
 * A snapshot of an engine's counters since it was built.
 *
 * <p>Every call to {@code submit} counts in {@code submitted} and, once settled, in exactly one of
 * {@code completed}, {@code failed}, {@code rejected}, {@code timedOut} or {@code cancelled}; until then it
 * is part of {@code queueDepth} or {@code inFlight} (see {@link #pending()}). Caveat: counters are read one
 * after another while the engine keeps running, so a snapshot of a busy engine need not add up exactly;
 * it does once the engine is idle.
 *
 * @param submitted            calls to {@code submit}, including refused ones
 * @param completed            items completed with an output
 * @param failed               items failed with {@code inference_failed} or {@code shutting_down} (including
 *                             submissions refused because the engine was shutting down)
 * @param rejected             submissions refused because the queue was full ({@code queue_full})
 * @param timedOut             items dropped after waiting longer than the queue timeout
 * @param cancelled            items the caller cancelled (or completed) before the engine did
 * @param batches              processor calls
 * @param itemsInBatches       items handed to the processor over all batches
 * @param maxBatchSeen         largest batch handed to the processor, 0 before the first
 * @param batchSizeHistogram   element {@code n} counts batches of size {@code n}; length
 *                             {@code maxBatchSize + 1}, element 0 always 0
 * @param totalBatchNanos      time spent in the processor over all batches, as measured by the ticker
 * @param lastBatchNanos       time the most recent batch took, 0 before the first
 * @param queueDepth           items waiting in the queue now
 * @param inFlight             items in the batch being formed or processed now
 */
public record EngineStats(long submitted, long completed, long failed, long rejected, long timedOut,
    long cancelled, long batches, long itemsInBatches, int maxBatchSeen, long[] batchSizeHistogram,
    long totalBatchNanos, long lastBatchNanos, int queueDepth, int inFlight) {

  public EngineStats {
    batchSizeHistogram = batchSizeHistogram.clone();
  }

  /** A copy, so the snapshot stays immutable. */
  @Override
  public long[] batchSizeHistogram() {
    return batchSizeHistogram.clone();
  }

  /** Batches of exactly {@code size} items; 0 for sizes outside the histogram. */
  public long batchesOfSize(int size) {
    return size >= 0 && size < batchSizeHistogram.length ? batchSizeHistogram[size] : 0;
  }

  /** Mean items per batch, 0 before the first batch. */
  public double meanBatchSize() {
    return batches == 0 ? 0 : (double) itemsInBatches / batches;
  }

  /** Mean processor time per batch in nanoseconds, 0 before the first batch. */
  public double meanBatchNanos() {
    return batches == 0 ? 0 : (double) totalBatchNanos / batches;
  }

  /** Items accepted but not yet settled: queued or in flight. */
  public long pending() {
    return (long) queueDepth + inFlight;
  }

  // Records compare arrays by identity; a snapshot is a value, so compare contents.
  @Override
  public boolean equals(Object o) {
    return o instanceof EngineStats s
        && submitted == s.submitted && completed == s.completed && failed == s.failed
        && rejected == s.rejected && timedOut == s.timedOut && cancelled == s.cancelled
        && batches == s.batches && itemsInBatches == s.itemsInBatches && maxBatchSeen == s.maxBatchSeen
        && Arrays.equals(batchSizeHistogram, s.batchSizeHistogram)
        && totalBatchNanos == s.totalBatchNanos && lastBatchNanos == s.lastBatchNanos
        && queueDepth == s.queueDepth && inFlight == s.inFlight;
  }

  @Override
  public int hashCode() {
    int h = Long.hashCode(submitted);
    for (long v : new long[] {completed, failed, rejected, timedOut, cancelled, batches, itemsInBatches,
        maxBatchSeen, totalBatchNanos, lastBatchNanos, queueDepth, inFlight}) {
      h = 31 * h + Long.hashCode(v);
    }
    return 31 * h + Arrays.hashCode(batchSizeHistogram);
  }

  @Override
  public String toString() {
    return "EngineStats[submitted=" + submitted + ", completed=" + completed + ", failed=" + failed
        + ", rejected=" + rejected + ", timedOut=" + timedOut + ", cancelled=" + cancelled
        + ", batches=" + batches + ", itemsInBatches=" + itemsInBatches + ", maxBatchSeen=" + maxBatchSeen
        + ", batchSizeHistogram=" + Arrays.toString(batchSizeHistogram)
        + ", totalBatchNanos=" + totalBatchNanos + ", lastBatchNanos=" + lastBatchNanos
        + ", queueDepth=" + queueDepth + ", inFlight=" + inFlight + "]";
  }
}
