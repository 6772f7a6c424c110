package io.unimatte.api;

import io.unimatte.error.ErrorCode;
import io.unimatte.config.AppConfig;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Optional API keys and per-key rate limits on the API routes. With no keys configured every
 * request passes (single-user default). Keys come in {@code X-Api-Key}, {@code Authorization:
 * Bearer}, or — for WebSocket upgrades, where browsers cannot set headers — {@code ?api_key=}.
 * Limits are a fixed one-minute window per key (per client address when keys are off), shared by
 * every HTTP verticle instance; answers carry {@code X-RateLimit-Limit/Remaining/Reset}.
 */
final class AccessControl implements Handler<RoutingContext> {
  private static final long WINDOW_MS = 60_000;
  /** Cookie the login page sets for the web UI. */
  static final String COOKIE = "unimatte_key";
  /** Windows are process-wide: several HTTP verticle instances share one budget per key. */
  private static final Map<String, long[]> WINDOWS = new ConcurrentHashMap<>();

  private final Set<String> keys;
  private final int perMinute;
  private final LongSupplier clock;

  AccessControl(JsonObject security, LongSupplier clock) {
    JsonArray list = security.getJsonArray("apiKeys", new JsonArray());
    this.keys = new HashSet<>();
    list.forEach(k -> {
      if (k != null && !String.valueOf(k).isBlank()) {
        keys.add(String.valueOf(k));
      }
    });
    this.perMinute = AppConfig.requireInt(security, "rateLimitPerMinute");
    this.clock = clock;
  }

  boolean enabled() {
    return !keys.isEmpty();
  }

  /**
   * Guards the web page when {@code security.protectUi} is on: without a valid key the browser
   * gets the login page (401), which stores the key as a cookie; API routes are guarded apart.
   */
  Handler<RoutingContext> pageGuard(String webroot) {
    return ctx -> {
      String path = ctx.request().path();
      if (!enabled() || path.equals("/login.html") || path.equals("/app.css")) {
        ctx.next();
        return;
      }
      String key = presentedKey(ctx);
      if (key != null && keys.contains(key)) {
        ctx.next();
        return;
      }
      ctx.response().setStatusCode(401).putHeader("Content-Type", "text/html; charset=utf-8")
          .sendFile(webroot + "/" + LOGIN_PAGE);
    };
  }

  private static final String LOGIN_PAGE = "login.html";

  @Override
  public void handle(RoutingContext ctx) {
    String key = presentedKey(ctx);
    if (enabled()) {
      if (key == null) {
        ctx.response().putHeader("WWW-Authenticate", "Bearer");
        ApiErrors.send(ctx, ErrorCode.MISSING_API_KEY, "this server needs an API key: X-Api-Key or Authorization: Bearer", 0);
        return;
      }
      if (!keys.contains(key)) {
        ApiErrors.send(ctx, ErrorCode.INVALID_API_KEY, "the API key is not valid", 0);
        return;
      }
    }
    if (perMinute > 0) {
      String bucket = enabled() ? "key:" + key : "ip:" + ctx.request().remoteAddress().host();
      long now = clock.getAsLong();
      long[] w = WINDOWS.compute(bucket, (b, old) -> {
        long start = now - now % WINDOW_MS;
        if (old == null || old[0] != start) {
          return new long[] {start, 1};
        }
        old[1]++;
        return old;
      });
      long resetSecs = Math.max(1, (w[0] + WINDOW_MS - now + 999) / 1000);
      long remaining = Math.max(0, perMinute - w[1]);
      ctx.response().putHeader("X-RateLimit-Limit", Integer.toString(perMinute))
          .putHeader("X-RateLimit-Remaining", Long.toString(remaining))
          .putHeader("X-RateLimit-Reset", Long.toString(resetSecs));
      if (w[1] > perMinute) {
        ApiErrors.send(ctx, ErrorCode.RATE_LIMITED, "more than " + perMinute + " requests this minute", resetSecs);
        return;
      }
    }
    ctx.next();
  }

  /** Who is asking: the API key when one was given, else the client address. */
  static String clientId(RoutingContext ctx) {
    String key = presentedKey(ctx);
    return key != null ? "key:" + Integer.toHexString(key.hashCode()) : "ip:" + ctx.request().remoteAddress().host();
  }

  private static String presentedKey(RoutingContext ctx) {
    String k = ctx.request().getHeader("X-Api-Key");
    if (k == null) {
      String auth = ctx.request().getHeader("Authorization");
      if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
        k = auth.substring(7).trim();
      }
    }
    if (k == null) {
      k = ctx.request().getParam("api_key");
    }
    if (k == null && ctx.request().getCookie(COOKIE) != null) {
      // the web page's own calls (fetch, images, WebSocket) carry the key as a same-site cookie
      k = java.net.URLDecoder.decode(ctx.request().getCookie(COOKIE).getValue(), java.nio.charset.StandardCharsets.UTF_8);
    }
    return k == null || k.isBlank() ? null : k;
  }
}
