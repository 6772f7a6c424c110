package io.unimatte.batching;

import java.util.Objects;

/**
 * The batch holding the item failed as a whole: the processor threw (the {@linkplain #getCause() cause}),
 * or returned a different number of outputs than it got inputs (cause: {@link IllegalStateException}).
 * Every item of that batch fails the same way. Code {@code inference_failed}.
 */
public final class BatchFailedException extends EngineException {

  private static final long serialVersionUID = 1L;

  private final int batchSize;

  public BatchFailedException(Throwable cause, int batchSize) {
    super(INFERENCE_FAILED, "inference failed for a batch of " + batchSize + ": "
        + Objects.requireNonNull(cause, "cause"), cause);
    this.batchSize = batchSize;
  }

  /** Number of items in the failed batch. */
  public int batchSize() {
    return batchSize;
  }
}
