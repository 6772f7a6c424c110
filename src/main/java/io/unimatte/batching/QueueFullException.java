package io.unimatte.batching;

import java.time.Duration;
import java.util.Objects;

/**
 * The queue was full when the item was submitted; the item was not accepted. Code {@code queue_full}.
 */
public final class QueueFullException extends EngineException {

  private static final long serialVersionUID = 1L;

  private final int queueDepth;
  private final Duration retryAfter;

  public QueueFullException(int queueDepth, Duration retryAfter) {
    super(QUEUE_FULL, "queue full (" + queueDepth + " items waiting), retry after "
        + Objects.requireNonNull(retryAfter, "retryAfter").toSeconds() + " s", null);
    this.queueDepth = queueDepth;
    this.retryAfter = retryAfter;
  }

  /** Items waiting when the submission was refused. */
  public int queueDepth() {
    return queueDepth;
  }

  /**
   * A rough estimate of when the queue will have drained, in whole seconds and at least one second,
   * suitable for an HTTP {@code Retry-After} header. It extrapolates from recent batch durations and says
   * nothing reliable about the future.
   */
  public Duration retryAfter() {
    return retryAfter;
  }
}
