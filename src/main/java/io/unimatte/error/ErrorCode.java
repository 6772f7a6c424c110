package io.unimatte.error;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Every error a client can see, once: its stable code (what clients branch on), its HTTP status and
 * whether the same request may succeed if sent again later. Codes never change meaning once published;
 * {@code docs/errors.md} and {@code /openapi.json} list them from here.
 */
public enum ErrorCode {
  MISSING_IMAGE(400, false, "no image in the request"),
  EMPTY_INPUT(400, false, "the image has zero bytes"),
  INVALID_PARAMETER(400, false, "a parameter has a value the server does not accept"),
  UNKNOWN_MODEL(400, false, "the model named is not served here"),
  INVALID_URL(400, false, "the image URL is not a valid http(s) URL"),
  INVALID_BASE64(400, false, "the base64 image is not valid base64"),
  INVALID_JSON(400, false, "the body is not a JSON object"),
  INVALID_MULTIPART(400, false, "the multipart body is malformed"),
  UNSUPPORTED_OUTPUT_FORMAT(400, false, "the output format is not supported"),
  UNSUPPORTED_PARAMETER(400, false, "the parameter is not supported"),
  UNKNOWN_PARAMETER(400, false, "a parameter the endpoint does not know"),
  URL_FORBIDDEN(400, false, "the image URL points at an address the server may not fetch"),
  ZIP_INVALID(400, false, "the zip file is malformed"),
  ZIP_UNSAFE_PATH(400, false, "a zip entry has an absolute path or '..'"),
  ZIP_UNSAFE_NAME(400, false, "a zip entry's name holds control characters (CR, LF, …)"),
  MISSING_API_KEY(401, false, "an API key is required"),
  INVALID_API_KEY(401, false, "the API key is not valid"),
  FORBIDDEN_ORIGIN(403, false, "cross-origin requests from this origin are not allowed"),
  NOT_FOUND(404, false, "no such resource"),
  JOB_NOT_FOUND(404, false, "no such job"),
  ITEM_NOT_FOUND(404, false, "no such item in the job"),
  METHOD_NOT_ALLOWED(405, false, "the method is not allowed on this resource"),
  REQUEST_TIMEOUT(408, true, "the request body did not arrive in time"),
  ITEM_NOT_READY(409, true, "the item has no result yet"),
  ITEM_FAILED(409, false, "the item failed and has no result"),
  NOTHING_TO_RETRY(409, false, "the job has no failed images that a retry could run again"),
  CANCELLED(409, false, "the job was cancelled before this image was finished"),
  PAYLOAD_TOO_LARGE(413, false, "the request is larger than the server accepts"),
  IMAGE_TOO_LARGE(413, false, "the image has more pixels or bytes than the server accepts"),
  TOO_MANY_FRAMES(413, false, "the image has more frames than the server accepts"),
  TOO_MANY_ITEMS(413, false, "the job has more images than the server accepts in one job"),
  URL_TOO_LARGE(413, false, "the image at the URL is larger than the server accepts"),
  ZIP_TOO_MANY_ENTRIES(413, false, "the zip has more entries than the server accepts"),
  ZIP_TOO_LARGE(413, false, "the zip inflates to more bytes than the server accepts"),
  UNSUPPORTED_MEDIA_TYPE(415, false, "the request's content type is not one the server reads"),
  UNSUPPORTED_FORMAT(415, false, "the bytes are no supported image format"),
  URL_FETCH_FAILED(422, false, "the image URL could not be fetched"),
  INPUT_MISSING(422, false, "the stored copy of the image is gone; submit it again"),
  INPUT_UNREADABLE(422, false, "the stored copy of the image cannot be read; submit it again"),
  CORRUPT_IMAGE(422, false, "the image is truncated or broken"),
  INVALID_DIMENSIONS(422, false, "the image has zero width or height"),
  RATE_LIMITED(429, true, "too many requests; wait before sending more"),
  TOO_MANY_JOBS(429, true, "you already have as many jobs running as the server allows; wait for one to finish"),
  INFERENCE_FAILED(500, true, "the model failed on this batch"),
  INTERNAL_ERROR(500, true, "unexpected error"),
  OUTPUT_FORMAT_UNAVAILABLE(501, false, "the output format cannot be written on this server"),
  QUEUE_FULL(503, true, "the server is busy; retry later"),
  SERVER_BUSY(503, true, "the server holds as many uploads in memory as it may; retry later"),
  QUEUE_TIMEOUT(503, true, "the image waited too long for the model"),
  MEMORY_BUSY(503, true, "the images in progress fill the server's memory budget; retry later"),
  MODEL_NOT_READY(503, true, "the model is still loading"),
  MODEL_UNAVAILABLE(503, true, "the model failed to load; a retry after it is reloaded may pass"),
  WORKER_LOST(503, true, "the inference worker was lost"),
  SHUTTING_DOWN(503, true, "the server is stopping"),
  INTERRUPTED(503, true, "the server stopped before the image was finished"),
  INFERENCE_TIMEOUT(504, true, "the model did not answer in time"),
  URL_TIMEOUT(504, true, "the image URL did not answer in time"),
  STORAGE_FULL(507, true, "the job store is full (jobs.maxTotalBytes); wait for jobs to finish or delete some"),
  // WebSocket-only: sent in error messages on the socket, never as an HTTP status of their own
  INVALID_MESSAGE(400, false, "send JSON text messages"),
  UNKNOWN_TYPE(400, false, "unknown message type"),
  TOO_MANY_SUBSCRIPTIONS(429, false, "this socket follows as many jobs as allowed"),
  MESSAGE_TOO_LARGE(413, false, "the WebSocket message is larger than websocket.maxMessageBytes"),
  SEND_FAILED(500, true, "the message could not be delivered");

  private static final Map<String, ErrorCode> BY_CODE = Arrays.stream(values())
      .collect(Collectors.toUnmodifiableMap(ErrorCode::code, Function.identity()));

  private final String code;
  private final int status;
  private final boolean retryable;
  private final String defaultMessage;

  ErrorCode(int status, boolean retryable, String defaultMessage) {
    this.code = name().toLowerCase(Locale.ROOT);
    this.status = status;
    this.retryable = retryable;
    this.defaultMessage = defaultMessage;
  }

  /** The stable wire code, e.g. {@code queue_full}. */
  public String code() {
    return code;
  }

  /** The HTTP status an answer with this error carries. */
  public int status() {
    return status;
  }

  /** Whether the same request may succeed when sent again later (overload, restarts, transient faults). */
  public boolean retryable() {
    return retryable;
  }

  /** A message for errors that travel without one (event-bus failures, rendered status codes). */
  public String defaultMessage() {
    return defaultMessage;
  }

  /** The constant for a wire code, if it is one. */
  public static Optional<ErrorCode> of(String code) {
    return Optional.ofNullable(code == null ? null : BY_CODE.get(code));
  }

  /** The constant for a wire code; {@link #INTERNAL_ERROR} for a code that is not one (a bug). */
  public static ErrorCode orInternal(String code) {
    return of(code).orElse(INTERNAL_ERROR);
  }
}
