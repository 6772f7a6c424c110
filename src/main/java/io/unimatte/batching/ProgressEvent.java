package io.unimatte.batching;

import java.util.Objects;

/**
 * One step in an item's life, as the engine reports it to its {@link ProgressListener}: {@link Stage#INFERRING}
 * when the batch holding the item starts and {@link Stage#FAILED} for the failures the engine causes. The
 * other stages (decoded, encoded, done) happen outside the engine; the matting service publishes those.
 *
 * @param ref             the item
 * @param stage           what happened
 * @param timestampMillis wall-clock time in epoch milliseconds
 * @param queuePosition   0-based position in a queue, or -1 if unknown or not applicable
 * @param errorCode       an {@link EngineException#code()} or pipeline-specific code; non-null exactly when
 *                        {@code stage} is {@link Stage#FAILED}
 * @param batchSize       size of the batch the item is processed in for {@link Stage#INFERRING}, else 0
 */
public record ProgressEvent(ItemRef ref, Stage stage, long timestampMillis, int queuePosition,
    String errorCode, int batchSize) {

  /** Stages in pipeline order; {@link #FAILED} can follow any of the others. */
  public enum Stage { QUEUED, DECODED, INFERRING, ENCODED, DONE, FAILED }

  /** Marks an unknown or meaningless {@code queuePosition}. */
  public static final int UNKNOWN_POSITION = -1;

  public ProgressEvent {
    Objects.requireNonNull(ref, "ref");
    Objects.requireNonNull(stage, "stage");
    if (queuePosition < UNKNOWN_POSITION) {
      throw new IllegalArgumentException("queuePosition must be >= -1 but was " + queuePosition);
    }
    if ((stage == Stage.FAILED) != (errorCode != null)) {
      throw new IllegalArgumentException("errorCode must be set exactly for FAILED events, stage was "
          + stage + " and errorCode " + errorCode);
    }
    if (batchSize < 0) {
      throw new IllegalArgumentException("batchSize must not be negative but was " + batchSize);
    }
  }

  /** An event without queue position, error code or batch size. */
  public static ProgressEvent of(ItemRef ref, Stage stage, long timestampMillis) {
    return new ProgressEvent(ref, stage, timestampMillis, UNKNOWN_POSITION, null, 0);
  }

  /** A {@link Stage#FAILED} event. */
  public static ProgressEvent failed(ItemRef ref, String errorCode, long timestampMillis) {
    return new ProgressEvent(ref, Stage.FAILED, timestampMillis, UNKNOWN_POSITION,
        Objects.requireNonNull(errorCode, "errorCode"), 0);
  }
}
