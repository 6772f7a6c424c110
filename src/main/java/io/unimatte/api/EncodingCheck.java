package io.unimatte.api;

import io.unimatte.error.ErrorCode;
import io.vertx.ext.web.RoutingContext;

/** Refuses a request whose path or query has a bad percent-encoding with one JSON error, before any route. */
final class EncodingCheck {
  private EncodingCheck() {
  }

  static void handle(RoutingContext ctx) {
    try {
      ctx.normalizedPath();
      ctx.queryParams();
    } catch (IllegalArgumentException e) {
      ApiErrors.send(ctx, ErrorCode.INVALID_PARAMETER, "the request path or query has a bad percent-encoding", 0);
      return;
    }
    ctx.next();
  }
}
