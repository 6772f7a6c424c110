package io.unimatte.service;

import io.unimatte.error.CodedException;
import io.unimatte.error.ErrorCode;

/**
 * A failure of the matting pipeline with a stable code that the API layer maps to an HTTP status.
 * Expected failures (bad image, full queue) carry no stack trace: they are logged as one line.
 */
public final class MatteException extends CodedException {
  private static final long serialVersionUID = 1L;

  public MatteException(ErrorCode code, String message) {
    super(code, message);
  }

  public MatteException(ErrorCode code, String message, long retryAfterSecs) {
    super(code, message, retryAfterSecs);
  }
}
