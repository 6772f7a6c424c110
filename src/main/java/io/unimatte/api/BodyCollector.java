package io.unimatte.api;

import io.unimatte.error.CodedException;
import io.unimatte.error.ErrorCode;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;

import java.util.Arrays;
import java.util.Optional;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * Reads an upload's body into memory, after deciding from the request head alone whether to take it:
 * a {@code Content-Length} over {@code server.maxRequestBytes} gets 413 {@code payload_too_large}, a route's
 * admission check (the model's queue is full) its own 503, and a body that does not fit the
 * {@link InFlightBudget} 503 {@code server_busy}, all before a byte of the body is read. Only then does a
 * client that sent {@code Expect: 100-continue} (curl, for bodies over 1 MB) get its {@code 100 Continue}.
 * A body that stops arriving for {@code server.idleTimeoutSeconds}, or is not complete after
 * {@code server.bodyTimeoutSeconds}, gets 408 {@code request_timeout} and its connection (HTTP/2: stream)
 * is closed. The next handler finds the bytes with {@link #body}.
 */
final class BodyCollector implements Handler<RoutingContext> {
  /** Context key of the collected {@code byte[]}. */
  static final String KEY = "unimatte.body";
  /** Context key set once the body is being read: from then on the client is owed no closed connection. */
  private static final String READING = "unimatte.reading";
  /** What a body of unknown length (chunked, or HTTP/2 without Content-Length) reserves first; it doubles. */
  private static final int UNKNOWN_LENGTH_FIRST_BYTES = 64 * 1024;
  /** The most a Java array holds. */
  private static final long MAX_ARRAY_BYTES = Integer.MAX_VALUE - 8;
  /** Retry-After of {@code server_busy}: uploads in flight usually finish within a couple of seconds. */
  static final long BUSY_RETRY_AFTER_SECONDS = 2;
  /** RST_STREAM code that asks an HTTP/2 client to stop sending a body nobody reads (RFC 9113, 8.1). */
  private static final long HTTP2_NO_ERROR = 0;
  private static final String CONTINUE = "100-continue";
  private static final Logger LOG = Logger.getLogger(BodyCollector.class.getName());

  /** How a route writes its errors (remove.bg has a shape of its own). */
  @FunctionalInterface
  interface ErrorSender {
    void send(RoutingContext ctx, ErrorCode code, String message, long retryAfterSecs);
  }

  private final Vertx vertx;
  private final long limit;
  private final InFlightBudget budget;
  private final long idleTimeoutMs;
  private final long bodyTimeoutMs;
  private final Function<RoutingContext, Optional<? extends CodedException>> admission;
  private final ErrorSender errors;

  /**
   * @param limit         {@code server.maxRequestBytes}
   * @param idleTimeoutMs longest silence inside a body; 0: none
   * @param bodyTimeoutMs longest time from the head to the body's last byte; 0: none
   */
  BodyCollector(Vertx vertx, long limit, InFlightBudget budget, long idleTimeoutMs, long bodyTimeoutMs) {
    this(vertx, Math.min(limit, MAX_ARRAY_BYTES), budget, idleTimeoutMs, bodyTimeoutMs, ctx -> Optional.empty(),
        ApiErrors::send);
  }

  private BodyCollector(Vertx vertx, long limit, InFlightBudget budget, long idleTimeoutMs, long bodyTimeoutMs,
                        Function<RoutingContext, Optional<? extends CodedException>> admission, ErrorSender errors) {
    this.vertx = vertx;
    this.limit = limit;
    this.budget = budget;
    this.idleTimeoutMs = idleTimeoutMs;
    this.bodyTimeoutMs = bodyTimeoutMs;
    this.admission = admission;
    this.errors = errors;
  }

  /**
   * The same collector for a route that knows from the head alone when it would refuse the request
   * anyway (a full queue), and that writes its errors with {@code errors}.
   */
  BodyCollector admitting(Function<RoutingContext, Optional<? extends CodedException>> check, ErrorSender errors) {
    return new BodyCollector(vertx, limit, budget, idleTimeoutMs, bodyTimeoutMs, check, errors);
  }

  /** The body collected for this request. */
  static byte[] body(RoutingContext ctx) {
    return ctx.get(KEY);
  }

  /**
   * First handler of every route: a request answered before its body was read (401, 429, 413, 503,
   * 404 ...) is ended so that the body is not wanted any more. A client that announced the body with
   * {@code Expect: 100-continue} has not sent it: on HTTP/1.x the answer says {@code Connection: close}
   * and the connection is closed once it is written (the client must not send it after all). A body sent
   * without the expectation is read and dropped (closing under it could lose the answer to a reset), within
   * {@code server.bodyTimeoutSeconds}, and the answer says {@code Connection: close}. On HTTP/2 the stream
   * is reset with NO_ERROR after the answer (RFC 9113, 8.1), leaving the connection's other streams alone.
   */
  void guard(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    if (announcesBody(req)) {
      ctx.addHeadersEndHandler(v -> {
        if (ctx.get(READING) != null || req.isEnded()) {
          return;
        }
        if (req.version() == HttpVersion.HTTP_2) {
          ctx.addBodyEndHandler(w -> dropRest(ctx));
          return;
        }
        ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
        if (expectsContinue(req)) {
          ctx.addBodyEndHandler(w -> dropRest(ctx));
        } else {
          drain(req);
        }
      });
    }
    ctx.next();
  }

  /** Reads and drops the rest of a body nobody wants; a body still coming after the deadline closes the connection. */
  private void drain(HttpServerRequest req) {
    long timer = bodyTimeoutMs <= 0 ? -1 : vertx.setTimer(bodyTimeoutMs, id -> {
      if (!req.isEnded()) {
        req.connection().close();
      }
    });
    req.handler(dropped -> { });
    req.endHandler(v -> vertx.cancelTimer(timer));
    req.exceptionHandler(err -> vertx.cancelTimer(timer));
    req.resume();
  }

  @Override
  public void handle(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    long declared = declaredLength(req);
    if (declared > limit || declared > budget.limit()) {
      errors.send(ctx, ErrorCode.PAYLOAD_TOO_LARGE, "the request is larger than the "
          + Math.min(limit, budget.limit()) + " bytes the server accepts", 0);
      return;
    }
    Optional<? extends CodedException> refused = admission.apply(ctx);
    if (refused.isPresent()) {
      errors.send(ctx, refused.get().error(), refused.get().getMessage(), refused.get().retryAfterSecs());
      return;
    }
    long first = declared >= 0 ? declared : Math.min(UNKNOWN_LENGTH_FIRST_BYTES, limit);
    if (!budget.tryAcquire(first)) {
      LOG.info("event=server_busy path=" + req.path() + " declared=" + declared + " held=" + budget.held()
          + " budget=" + budget.limit());
      errors.send(ctx, ErrorCode.SERVER_BUSY, "the server holds as many uploads as it may ("
          + budget.limit() + " bytes); retry later", BUSY_RETRY_AFTER_SECONDS);
      return;
    }
    new Upload(ctx, (int) first).start();
  }

  /** One body being read: its bytes, its share of the budget, its deadlines. */
  private final class Upload {
    private final RoutingContext ctx;
    private byte[] data;
    private int size;
    private long reserved;
    private boolean finished;
    private long lastChunkNanos;
    private long idleTimer = -1;
    private long bodyTimer = -1;

    Upload(RoutingContext ctx, int reserved) {
      this.ctx = ctx;
      this.reserved = reserved;
      this.data = new byte[reserved];
    }

    void start() {
      // the budget is held until the answer is sent (or the client is gone): the body lives that long
      ctx.addEndHandler(ar -> {
        stop();
        budget.release(reserved);
        reserved = 0;
      });
      ctx.put(READING, true);
      HttpServerRequest req = ctx.request();
      req.handler(this::chunk);
      req.endHandler(v -> end());
      req.exceptionHandler(err -> stop());
      lastChunkNanos = System.nanoTime();
      if (idleTimeoutMs > 0) {
        idleTimer = vertx.setTimer(idleTimeoutMs, id -> checkIdle());
      }
      if (bodyTimeoutMs > 0) {
        bodyTimer = vertx.setTimer(bodyTimeoutMs, id -> timedOut("the body was not complete after "
            + bodyTimeoutMs / 1000 + " s"));
      }
      if (expectsContinue(req)) {
        ctx.response().writeContinue();
      }
      req.resume();
    }

    private void chunk(Buffer chunk) {
      if (finished) {
        return;
      }
      lastChunkNanos = System.nanoTime();
      int n = chunk.length();
      long needed = (long) size + n;
      if (needed > limit) {
        fail(ErrorCode.PAYLOAD_TOO_LARGE, "the request is larger than the " + limit + " bytes the server accepts", 0);
        return;
      }
      if (needed > data.length) {
        // only bodies of unknown length grow; a declared one was reserved whole
        long grown = Math.min(limit, Math.max(needed, 2L * data.length));
        if (!budget.tryAcquire(grown - reserved)) {
          fail(ErrorCode.SERVER_BUSY, "the server holds as many uploads as it may (" + budget.limit()
              + " bytes); retry later", BUSY_RETRY_AFTER_SECONDS);
          return;
        }
        reserved = grown;
        data = Arrays.copyOf(data, (int) grown);
      }
      chunk.getBytes(0, n, data, size);
      size += n;
    }

    private void end() {
      if (finished) {
        return;
      }
      byte[] body = size == data.length ? data : Arrays.copyOf(data, size);
      stop();
      ctx.put(KEY, body);
      ctx.next();
    }

    private void checkIdle() {
      if (finished) {
        return;
      }
      long quietMs = (System.nanoTime() - lastChunkNanos) / 1_000_000;
      if (quietMs >= idleTimeoutMs) {
        timedOut("no body bytes arrived for " + idleTimeoutMs / 1000 + " s");
      } else {
        idleTimer = vertx.setTimer(idleTimeoutMs - quietMs, id -> checkIdle());
      }
    }

    private void timedOut(String why) {
      if (finished) {
        return;
      }
      LOG.info("event=upload_timeout path=" + ctx.request().path() + " received=" + size + " declared="
          + declaredLength(ctx.request()) + " reason=\"" + why + "\"");
      fail(ErrorCode.REQUEST_TIMEOUT, why, 0);
    }

    /** Answers mid-body and ends the exchange: the rest of the body is not wanted. */
    private void fail(ErrorCode code, String message, long retryAfterSecs) {
      stop();
      if (ctx.request().version() != HttpVersion.HTTP_2) {
        ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
      }
      ctx.addBodyEndHandler(v -> dropRest(ctx));
      errors.send(ctx, code, message, retryAfterSecs);
    }

    private void stop() {
      finished = true;
      data = null;
      if (idleTimer >= 0) {
        vertx.cancelTimer(idleTimer);
      }
      if (bodyTimer >= 0) {
        vertx.cancelTimer(bodyTimer);
      }
    }
  }

  /** Stops a body nobody will read: HTTP/1.x closes the connection, HTTP/2 resets only the stream. */
  private static void dropRest(RoutingContext ctx) {
    if (ctx.request().isEnded()) {
      return;
    }
    if (ctx.request().version() == HttpVersion.HTTP_2) {
      ctx.response().reset(HTTP2_NO_ERROR);
    } else {
      ctx.request().connection().close();
    }
  }

  /** Whether the client waits for {@code 100 Continue} before it sends the body (never on HTTP/1.0). */
  static boolean expectsContinue(HttpServerRequest req) {
    String expect = req.getHeader(HttpHeaders.EXPECT);
    return expect != null && req.version() != HttpVersion.HTTP_1_0 && CONTINUE.equalsIgnoreCase(expect.trim());
  }

  /**
   * Whether a body follows the head: a positive length or chunks on HTTP/1.x; on HTTP/2 (where the length
   * may be left out) a positive length, or none given on a method that sends one.
   */
  private static boolean announcesBody(HttpServerRequest req) {
    long declared = declaredLength(req);
    if (req.version() != HttpVersion.HTTP_2) {
      return declared > 0 || req.getHeader(HttpHeaders.TRANSFER_ENCODING) != null;
    }
    HttpMethod m = req.method();
    return declared > 0 || (declared < 0 && (m == HttpMethod.POST || m == HttpMethod.PUT || m == HttpMethod.PATCH));
  }

  /** The declared Content-Length, or -1 when there is none (chunked, HTTP/2) or it is not a number. */
  private static long declaredLength(HttpServerRequest req) {
    String length = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (length == null) {
      return -1;
    }
    try {
      long n = Long.parseLong(length.trim());
      return n >= 0 ? n : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
