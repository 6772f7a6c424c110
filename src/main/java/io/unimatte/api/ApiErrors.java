package io.unimatte.api;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.Map;

/**
 * Stable error codes and their HTTP statuses. Every error leaves the server as
 * {@code {"error":{"code":..., "message":..., "status":...}}}; clients branch on {@code code}.
 */
public final class ApiErrors {
  private ApiErrors() {
  }

  private static final int DEFAULT_STATUS = 500;

  /** Code → HTTP status. Codes never change meaning once published. */
  public static final Map<String, Integer> STATUS = Map.ofEntries(
      Map.entry("missing_image", 400),
      Map.entry("empty_input", 400),
      Map.entry("invalid_parameter", 400),
      Map.entry("unknown_model", 400),
      Map.entry("missing_api_key", 401),
      Map.entry("invalid_api_key", 401),
      Map.entry("rate_limited", 429),
      Map.entry("too_many_jobs", 429),
      Map.entry("forbidden_origin", 403),
      Map.entry("not_found", 404),
      Map.entry("job_not_found", 404),
      Map.entry("item_not_found", 404),
      Map.entry("item_not_ready", 409),
      Map.entry("item_failed", 409),
      Map.entry("nothing_to_retry", 409),
      Map.entry("storage_full", 507),
      Map.entry("too_many_items", 413),
      Map.entry("zip_invalid", 400),
      Map.entry("invalid_url", 400),
      Map.entry("invalid_base64", 400),
      Map.entry("invalid_json", 400),
      Map.entry("invalid_multipart", 400),
      Map.entry("unsupported_output_format", 400),
      Map.entry("unsupported_parameter", 400),
      Map.entry("url_forbidden", 400),
      Map.entry("url_fetch_failed", 422),
      Map.entry("url_too_large", 413),
      Map.entry("url_timeout", 504),
      Map.entry("zip_unsafe_path", 400),
      Map.entry("zip_too_many_entries", 413),
      Map.entry("zip_too_large", 413),
      Map.entry("method_not_allowed", 405),
      Map.entry("payload_too_large", 413),
      Map.entry("image_too_large", 413),
      Map.entry("too_many_frames", 413),
      Map.entry("unsupported_media_type", 415),
      Map.entry("unsupported_format", 415),
      Map.entry("corrupt_image", 422),
      Map.entry("invalid_dimensions", 422),
      Map.entry("inference_failed", 500),
      Map.entry("internal_error", 500),
      Map.entry("queue_full", 503),
      Map.entry("model_unavailable", 503),
      Map.entry("queue_timeout", 503),
      Map.entry("worker_lost", 503),
      Map.entry("model_not_ready", 503),
      Map.entry("shutting_down", 503),
      Map.entry("inference_timeout", 504));

  /** A default message for codes that travel without one (event-bus failures). */
  public static String message(String code) {
    return switch (code) {
      case "too_many_items" -> "the job has more images than the server accepts in one job";
      case "too_many_jobs" -> "you already have as many jobs running as the server allows; wait for one to finish";
      case "missing_image" -> "no image in the request";
      case "nothing_to_retry" -> "the job has no failed image that can be retried (their stored copies may be gone)";
      case "storage_full" -> "running jobs already hold jobs.maxTotalBytes of images; wait for them to finish";
      default -> code.replace('_', ' ');
    };
  }

  /** HTTP status of {@code code} (500 for a code this table does not know). */
  public static int status(String code) {
    return STATUS.getOrDefault(code, DEFAULT_STATUS);
  }

  /** Ends the exchange with the JSON error; adds {@code Retry-After} when given. */
  public static void send(RoutingContext ctx, String code, String message, long retryAfterSecs) {
    if (ctx.response().ended()) {
      return;
    }
    int status = status(code);
    if (ctx.response().headWritten()) {
      ctx.response().reset();
      return;
    }
    if (retryAfterSecs > 0) {
      ctx.response().putHeader("Retry-After", Long.toString(retryAfterSecs));
    }
    ctx.response().setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", new JsonObject()
            .put("code", code).put("message", message).put("status", status)).encode());
  }
}
