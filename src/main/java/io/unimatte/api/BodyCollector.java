package io.unimatte.api;

import io.unimatte.error.ErrorCode;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;

/**
 * Collects a request body in memory up to a limit, then calls the next handler with it in
 * {@link #KEY}. Over the limit, the client gets 413 {@code payload_too_large} at once (checked
 * from Content-Length first, then while the body streams), and the rest is not read.
 */
final class BodyCollector implements Handler<RoutingContext> {
  /** Context key of the collected {@link Buffer}. */
  static final String KEY = "unimatte.body";
  private final long limit;

  BodyCollector(long limit) {
    this.limit = limit;
  }

  @Override
  public void handle(RoutingContext ctx) {
    String length = ctx.request().getHeader("Content-Length");
    if (length != null) {
      try {
        if (Long.parseLong(length.trim()) > limit) {
          tooLarge(ctx);
          return;
        }
      } catch (NumberFormatException ignored) {
        // a bad header: counted while streaming instead
      }
    }
    Buffer body = Buffer.buffer();
    boolean[] failed = {false};
    ctx.request().handler(chunk -> {
      if (failed[0]) {
        return;
      }
      if (body.length() + (long) chunk.length() > limit) {
        failed[0] = true;
        tooLarge(ctx);
        return;
      }
      body.appendBuffer(chunk);
    });
    ctx.request().endHandler(v -> {
      if (!failed[0]) {
        ctx.put(KEY, body);
        ctx.next();
      }
    });
    ctx.request().exceptionHandler(err -> failed[0] = true);
    ctx.request().resume();
  }

  private void tooLarge(RoutingContext ctx) {
    ctx.response().putHeader("Connection", "close");
    ApiErrors.send(ctx, ErrorCode.PAYLOAD_TOO_LARGE, "the request is larger than the " + limit + " bytes the server accepts", 0);
  }
}
