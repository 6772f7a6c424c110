package io.unimatte.service;

/**
 * A failure with a stable code that the API layer maps to an HTTP status. Expected failures
 * (bad input, full queue) carry no stack trace: they are logged as one line.
 */
public final class MatteException extends RuntimeException {
  private final String code;
  private final long retryAfterSecs;

  public MatteException(String code, String message) {
    this(code, message, 0);
  }

  public MatteException(String code, String message, long retryAfterSecs) {
    super(message, null, false, false);
    this.code = code;
    this.retryAfterSecs = retryAfterSecs;
  }

  public String code() {
    return code;
  }

  /** Seconds to wait before retrying, for overload errors; 0 otherwise. */
  public long retryAfterSecs() {
    return retryAfterSecs;
  }
}
