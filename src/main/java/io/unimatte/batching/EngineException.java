package io.unimatte.batching;

/**
 * Why the engine could not produce an output for an item. {@link #code()} is a stable, machine-readable
 * reason meant for API responses and metrics.
 *
 * <p>These exceptions carry no stack trace of their own: they are created per item, often under overload,
 * and the engine-internal stack would say nothing about the caller. Where something actually went wrong
 * (e.g. the processor threw) the original throwable is the {@linkplain #getCause() cause}.
 *
 * <p>Futures returned by the engine fail with these directly; {@code join()}/{@code get()} wrap them in
 * {@code CompletionException}/{@code ExecutionException} as usual.
 */
public abstract sealed class EngineException extends RuntimeException
    permits QueueFullException, QueueTimeoutException, BatchFailedException, EngineShutdownException {

  private static final long serialVersionUID = 1L;

  /** See {@link QueueFullException}. */
  public static final String QUEUE_FULL = "queue_full";
  /** See {@link QueueTimeoutException}. */
  public static final String QUEUE_TIMEOUT = "queue_timeout";
  /** See {@link BatchFailedException}. */
  public static final String INFERENCE_FAILED = "inference_failed";
  /** See {@link EngineShutdownException}. */
  public static final String SHUTTING_DOWN = "shutting_down";

  private final String code;

  EngineException(String code, String message, Throwable cause) {
    super(message, cause, true, false);
    this.code = code;
  }

  /**
   * One of {@link #QUEUE_FULL}, {@link #QUEUE_TIMEOUT}, {@link #INFERENCE_FAILED}, {@link #SHUTTING_DOWN}.
   */
  public String code() {
    return code;
  }
}
