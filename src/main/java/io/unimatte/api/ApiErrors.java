package io.unimatte.api;

import io.unimatte.error.CodedException;
import io.unimatte.error.ErrorCode;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * Writes errors as every API but remove.bg's shows them:
 * {@code {"error":{"code":..., "message":..., "status":..., "retryable":...}}}, with the status of the
 * {@link ErrorCode} and {@code Retry-After} for overload errors; clients branch on {@code code}.
 */
public final class ApiErrors {
  private ApiErrors() {
  }

  /** Ends the exchange with the JSON error; adds {@code Retry-After} when given. */
  public static void send(RoutingContext ctx, ErrorCode code, String message, long retryAfterSecs) {
    if (ctx.response().ended()) {
      return;
    }
    if (ctx.response().headWritten()) {
      ctx.response().reset();
      return;
    }
    if (retryAfterSecs > 0) {
      ctx.response().putHeader("Retry-After", Long.toString(retryAfterSecs));
    }
    ctx.response().setStatusCode(code.status())
        .putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", new JsonObject().put("code", code.code()).put("message", message)
            .put("status", code.status()).put("retryable", code.retryable())).encode());
  }

  /** The error of a failed future: a {@link CodedException} as it is, anything else as an internal error. */
  public static void send(RoutingContext ctx, Throwable err) {
    if (err instanceof CodedException e) {
      send(ctx, e.error(), e.getMessage(), e.retryAfterSecs());
    } else {
      send(ctx, ErrorCode.INTERNAL_ERROR, ErrorCode.INTERNAL_ERROR.defaultMessage(), 0);
    }
  }
}
