package io.unimatte.batching;

import java.time.Duration;
import java.util.Objects;

/**
 * The item waited in the queue longer than the configured queue timeout and was dropped without being
 * processed. Code {@code queue_timeout}.
 */
public final class QueueTimeoutException extends EngineException {

  private static final long serialVersionUID = 1L;

  private final Duration waited;

  public QueueTimeoutException(Duration waited, Duration queueTimeout) {
    super(QUEUE_TIMEOUT, "waited " + Objects.requireNonNull(waited, "waited").toMillis()
        + " ms in the queue, limit is " + Objects.requireNonNull(queueTimeout, "queueTimeout").toMillis()
        + " ms", null);
    this.waited = waited;
  }

  /** How long the item had been queued when the engine noticed it had expired. */
  public Duration waited() {
    return waited;
  }
}
