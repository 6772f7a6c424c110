package io.unimatte.error;

/**
 * An expected failure with a stable {@link ErrorCode}: bad input, overload, a model that is not
 * ready. It carries no stack trace, since it is logged as one line and answered as JSON.
 */
public class CodedException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final ErrorCode code;
  private final long retryAfterSecs;

  public CodedException(ErrorCode code, String message) {
    this(code, message, 0);
  }

  public CodedException(ErrorCode code, String message, long retryAfterSecs) {
    super(message, null, false, false);
    this.code = code;
    this.retryAfterSecs = retryAfterSecs;
  }

  /** The stable code. */
  public ErrorCode error() {
    return code;
  }

  /** The wire code, e.g. {@code corrupt_image}. */
  public String code() {
    return code.code();
  }

  /** Seconds to wait before retrying, for overload errors; 0 otherwise. */
  public long retryAfterSecs() {
    return retryAfterSecs;
  }
}
