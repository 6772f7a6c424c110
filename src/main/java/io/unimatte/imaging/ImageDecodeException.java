package io.unimatte.imaging;

import io.unimatte.error.ErrorCode;

/**
 * An input that cannot be turned into pixels. {@link #code()} is a stable, machine-readable reason
 * (one of the constants below) that the HTTP layer can map to a status and return to clients; the
 * message is for humans. No stack trace is captured: these are expected, client-caused failures.
 */
public final class ImageDecodeException extends Exception {

  private static final long serialVersionUID = 1L;

  /** No bytes at all. */
  public static final String EMPTY_INPUT = ErrorCode.EMPTY_INPUT.code();
  /** Magic bytes match none of the supported formats. */
  public static final String UNSUPPORTED_FORMAT = ErrorCode.UNSUPPORTED_FORMAT.code();
  /** Recognised format, but the data is broken or cut short. */
  public static final String CORRUPT_IMAGE = ErrorCode.CORRUPT_IMAGE.code();
  /** Too many bytes, or width × height above the configured pixel limit. */
  public static final String IMAGE_TOO_LARGE = ErrorCode.IMAGE_TOO_LARGE.code();
  /** Width or height is zero (or negative). */
  public static final String INVALID_DIMENSIONS = ErrorCode.INVALID_DIMENSIONS.code();
  /** A multi-frame file (GIF, TIFF, WebP) with more frames than allowed. */
  public static final String TOO_MANY_FRAMES = ErrorCode.TOO_MANY_FRAMES.code();

  private final String code;

  public ImageDecodeException(String code, String message) {
    this(code, message, null);
  }

  public ImageDecodeException(String code, String message, Throwable cause) {
    super(message, cause, false, false);
    this.code = code;
  }

  /** The stable reason code, e.g. {@code "corrupt_image"}. */
  public String code() {
    return code;
  }
}
