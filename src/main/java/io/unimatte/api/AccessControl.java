package io.unimatte.api;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.unimatte.config.AppConfig;
import io.unimatte.error.ErrorCode;
import io.unimatte.jobs.Viewer;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.logging.Logger;

/**
 * Optional API keys, web-page sessions and per-client rate limits. With no keys configured every
 * request passes (single-user default). Keys come in {@code X-Api-Key} or {@code Authorization:
 * Bearer}; on the WebSocket upgrade only, where browsers cannot set headers, also as
 * {@code ?api_key=}. The web page logs in once ({@code POST /api/v1/login} with the key) and then
 * carries a random session token in an {@code HttpOnly; SameSite=Strict} cookie, never the key.
 *
 * <p>Keys are compared in constant time. Wrong keys are counted per client address: past
 * {@code security.failedKeyAttemptsPerMinute} in one minute that address gets 429 for any key
 * until the minute ends, so keys cannot be guessed at speed. Request limits are a fixed one-minute
 * window per key (per client address when keys are off); answers carry
 * {@code X-RateLimit-Limit/Remaining/Reset}. Both tables are bounded and expire. One instance per
 * Vert.x ({@link #shared}): every HTTP verticle instance shares its windows and sessions.
 *
 * <p>Jobs belong to the key that created them ({@link #viewer}); keys in {@code security.adminKeys}
 * are keys too and may see every job.
 */
final class AccessControl implements Handler<RoutingContext>, Shareable {
  private static final Logger LOG = Logger.getLogger(AccessControl.class.getName());
  private static final long WINDOW_MS = 60_000;
  /** The session cookie of the web page. */
  static final String COOKIE = "unimatte_session";
  /** What the login page of earlier versions stored: the raw key. Cleared on login and logout. */
  private static final String LEGACY_COOKIE = "unimatte_key";
  /** The only route where {@code ?api_key=} is read. */
  static final String WS_PATH = "/api/v1/ws";
  private static final String SHARED_MAP = "unimatte.access";
  private static final String CLIENT = "unimatte.client";
  private static final String VIA = "unimatte.via";
  private static final String SESSION = "unimatte.session";
  private static final String ADMIN = "unimatte.admin";
  private static final int TOKEN_BYTES = 32;
  private static final int KEY_ID_BYTES = 8;
  /** Bounds of the tables: far above honest use, small enough that a flood cannot fill the heap. */
  private static final long MAX_WINDOWS = 100_000;
  private static final long MAX_SESSIONS = 100_000;
  private static final String LOGIN_PAGE = "login.html";

  /** A configured key: an id for buckets and job owners, its digest for the comparison, whether it sees every job. */
  private record Key(String id, byte[] digest, boolean admin) {
  }

  /** A logged-in browser: who it is, whether it logged in with an admin key, and until when. */
  record Session(String client, boolean admin, long expiresAt) {
  }

  /** How a request was checked. */
  private enum Outcome { OPEN, SESSION, KEY, MISSING, INVALID, BLOCKED }

  private final List<Key> keys = new ArrayList<>();
  private final int perMinute;
  private final int failedPerMinute;
  private final long sessionSeconds;
  private final Cache<String, long[]> windows;
  private final Cache<String, Session> sessions;
  private final SecureRandom random = new SecureRandom();

  private AccessControl(JsonObject security) {
    // admin keys first: a key listed in both lists is an admin key
    addKeys(security.getJsonArray("adminKeys", new JsonArray()), true);
    addKeys(security.getJsonArray("apiKeys", new JsonArray()), false);
    this.perMinute = AppConfig.requireInt(security, "rateLimitPerMinute");
    this.failedPerMinute = AppConfig.requireInt(security, "failedKeyAttemptsPerMinute");
    this.sessionSeconds = AppConfig.requireLong(security, "sessionMaxAgeSeconds");
    if (sessionSeconds <= 0) {
      throw new IllegalArgumentException("security.sessionMaxAgeSeconds must be positive, got " + sessionSeconds);
    }
    this.windows = Caffeine.newBuilder().maximumSize(MAX_WINDOWS).expireAfterWrite(Duration.ofMillis(2 * WINDOW_MS)).build();
    this.sessions = Caffeine.newBuilder().maximumSize(MAX_SESSIONS).expireAfterWrite(Duration.ofSeconds(sessionSeconds)).build();
  }

  private void addKeys(JsonArray list, boolean admin) {
    list.forEach(k -> {
      if (k != null && !String.valueOf(k).isBlank()) {
        byte[] digest = sha256(String.valueOf(k));
        keys.add(new Key(HexFormat.of().formatHex(digest, 0, KEY_ID_BYTES), digest, admin));
      }
    });
  }

  /** The access control of this Vert.x instance, made from {@code security} on first use. */
  static AccessControl shared(Vertx vertx, JsonObject security) {
    return vertx.sharedData().<String, AccessControl>getLocalMap(SHARED_MAP)
        .computeIfAbsent(SHARED_MAP, k -> new AccessControl(security));
  }

  boolean enabled() {
    return !keys.isEmpty();
  }

  /** Guards the API routes: 401 without a valid key or session, 429 past the limits. */
  @Override
  public void handle(RoutingContext ctx) {
    switch (check(ctx)) {
      case MISSING -> {
        ctx.response().putHeader("WWW-Authenticate", "Bearer");
        boolean stale = ctx.request().getCookie(COOKIE) != null;
        ApiErrors.send(ctx, ErrorCode.MISSING_API_KEY, stale ? "the session has expired or was logged out: log in again"
            : "this server needs an API key: X-Api-Key or Authorization: Bearer", 0);
        return;
      }
      case INVALID -> {
        ApiErrors.send(ctx, ErrorCode.INVALID_API_KEY, "the API key is not valid", 0);
        return;
      }
      case BLOCKED -> {
        ApiErrors.send(ctx, ErrorCode.RATE_LIMITED, "too many wrong API keys from this address; wait a minute",
            resetSeconds());
        return;
      }
      default -> {
      }
    }
    if (perMinute > 0) {
      long[] w = hit(clientId(ctx));
      long resetSecs = resetSeconds();
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

  /**
   * Guards the web page when {@code security.protectUi} is on: without a valid session (or key
   * header) the browser gets the login page (401); API routes are guarded apart.
   */
  Handler<RoutingContext> pageGuard(String webroot) {
    return ctx -> {
      String path = ctx.request().path();
      // the login page and what it shows (its style, the icon) open without a session
      if (path.equals("/" + LOGIN_PAGE) || path.equals("/app.css") || path.equals("/favicon.svg")) {
        ctx.next();
        return;
      }
      Outcome outcome = check(ctx);
      if (outcome == Outcome.OPEN || outcome == Outcome.SESSION || outcome == Outcome.KEY) {
        // the static handler lets browsers keep files a day: a protected page must be asked for
        // again each time, or it would still open from the cache after logging out
        ctx.addHeadersEndHandler(v -> ctx.response().headers().set("Cache-Control", "no-cache"));
        ctx.next();
        return;
      }
      ctx.response().setStatusCode(401).putHeader("Content-Type", "text/html; charset=utf-8")
          .putHeader("Cache-Control", "no-store").sendFile(webroot + "/" + LOGIN_PAGE);
    };
  }

  /**
   * {@code POST /api/v1/login} (behind this handler, so the key was checked): a new session for the
   * key presented, as the cookie; the session that came with the request, if any, ends.
   */
  void login(RoutingContext ctx) {
    ctx.response().putHeader("Cache-Control", "no-store");
    if (!enabled()) {
      ctx.response().setStatusCode(204).end(); // nothing to log into
      return;
    }
    if (!Outcome.KEY.equals(ctx.get(VIA))) {
      ApiErrors.send(ctx, ErrorCode.MISSING_API_KEY, "log in with the key in X-Api-Key or Authorization: Bearer", 0);
      return;
    }
    endSession(ctx);
    byte[] raw = new byte[TOKEN_BYTES];
    random.nextBytes(raw);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    long expiresAt = System.currentTimeMillis() + sessionSeconds * 1000;
    sessions.put(tokenId(token), new Session(clientId(ctx), Boolean.TRUE.equals(ctx.get(ADMIN)), expiresAt));
    ctx.response().addCookie(cookie(ctx, COOKIE, token, sessionSeconds));
    ctx.response().addCookie(cookie(ctx, LEGACY_COOKIE, "", 0));
    LOG.info("event=login client=" + clientId(ctx) + " maxAgeSeconds=" + sessionSeconds);
    ctx.json(new JsonObject().put("expiresAt", Instant.ofEpochMilli(expiresAt).toString())
        .put("maxAgeSeconds", sessionSeconds));
  }

  /** {@code POST /api/v1/logout} (not behind this handler: an expired session may log out too). */
  void logout(RoutingContext ctx) {
    endSession(ctx);
    ctx.response().putHeader("Cache-Control", "no-store")
        .addCookie(cookie(ctx, COOKIE, "", 0)).addCookie(cookie(ctx, LEGACY_COOKIE, "", 0))
        .setStatusCode(204).end();
  }

  /** {@code GET /api/v1/session}: how this request got in ({@code open}, {@code key}, {@code session}). */
  void describe(RoutingContext ctx) {
    ctx.response().putHeader("Cache-Control", "no-store");
    Outcome via = ctx.get(VIA);
    JsonObject out = new JsonObject().put("via", via == null ? "open" : via.name().toLowerCase(Locale.ROOT));
    Session s = ctx.get(SESSION);
    if (s != null) {
      out.put("expiresAt", Instant.ofEpochMilli(s.expiresAt()).toString());
    }
    ctx.json(out);
  }

  private void endSession(RoutingContext ctx) {
    Cookie c = ctx.request().getCookie(COOKIE);
    if (c != null) {
      sessions.invalidate(tokenId(c.getValue()));
    }
  }

  /** Who is asking, once checked: the key's id, else the client address. */
  static String clientId(RoutingContext ctx) {
    String id = ctx.get(CLIENT);
    return id != null ? id : "ip:" + ctx.request().remoteAddress().host();
  }

  /**
   * Whose jobs the request may see and acts for, once checked: its key's (an admin key sees every
   * job); with keys off the one shared owner, who sees every job.
   */
  static Viewer viewer(RoutingContext ctx) {
    Outcome via = ctx.get(VIA);
    if (via == Outcome.OPEN) {
      return Viewer.open();
    }
    if (via != Outcome.KEY && via != Outcome.SESSION) {
      // not checked (a route outside the guard): fail closed, never the shared owner
      throw new IllegalStateException("the request's key was not checked");
    }
    return new Viewer(ctx.get(CLIENT), Boolean.TRUE.equals(ctx.get(ADMIN)));
  }

  /** Checks what the request carries and records who it is ({@link #clientId}). */
  private Outcome check(RoutingContext ctx) {
    String address = "ip:" + ctx.request().remoteAddress().host();
    Outcome outcome = Outcome.OPEN;
    String client = address;
    boolean admin = false;
    if (enabled()) {
      // a key given explicitly wins over the session cookie (logging in again while logged in)
      String key = presentedKey(ctx.request());
      Session s = key == null ? session(ctx) : null;
      if (key == null && s != null) {
        outcome = Outcome.SESSION;
        client = s.client();
        admin = s.admin();
        ctx.put(SESSION, s);
      } else if (key == null) {
        outcome = Outcome.MISSING;
      } else if (failedPerMinute > 0 && blocked(address)) {
        // checked before the key, so a right guess past the limit looks like a wrong one
        outcome = Outcome.BLOCKED;
      } else {
        Key k = match(key);
        if (k == null) {
          outcome = Outcome.INVALID;
          long failures = hit("fail:" + address)[1];
          LOG.info("event=invalid_api_key client=" + address + " failuresThisMinute=" + failures);
        } else {
          outcome = Outcome.KEY;
          client = Viewer.KEY_PREFIX + k.id();
          admin = k.admin();
        }
      }
    }
    ctx.put(CLIENT, client);
    ctx.put(VIA, outcome);
    ctx.put(ADMIN, admin);
    return outcome;
  }

  private Session session(RoutingContext ctx) {
    Cookie c = ctx.request().getCookie(COOKIE);
    if (c == null || c.getValue().isEmpty()) {
      return null;
    }
    Session s = sessions.getIfPresent(tokenId(c.getValue()));
    return s == null || s.expiresAt() <= System.currentTimeMillis() ? null : s;
  }

  /** The configured key equal to {@code presented}; every key is compared, in constant time. */
  private Key match(String presented) {
    byte[] digest = sha256(presented);
    Key found = null;
    for (Key k : keys) {
      if (MessageDigest.isEqual(digest, k.digest()) && found == null) {
        found = k;
      }
    }
    return found;
  }

  private boolean blocked(String address) {
    long[] w = windows.getIfPresent("fail:" + address);
    return w != null && w[0] == windowStart() && w[1] >= failedPerMinute;
  }

  /** Counts one more request in {@code bucket}'s current window: {start, count}. */
  private long[] hit(String bucket) {
    long start = windowStart();
    return windows.asMap().compute(bucket, (b, old) -> {
      if (old == null || old[0] != start) {
        return new long[] {start, 1};
      }
      old[1]++;
      return old;
    });
  }

  private static long windowStart() {
    long now = System.currentTimeMillis();
    return now - now % WINDOW_MS;
  }

  private static long resetSeconds() {
    long now = System.currentTimeMillis();
    return Math.max(1, (windowStart() + WINDOW_MS - now + 999) / 1000);
  }

  private static String presentedKey(HttpServerRequest req) {
    String k = req.getHeader("X-Api-Key");
    if (k == null) {
      String auth = req.getHeader("Authorization");
      if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
        k = auth.substring(7).trim();
      }
    }
    if (k == null && req.path().equals(WS_PATH) && req.canUpgradeToWebSocket()) {
      // browsers cannot set headers on a WebSocket; everywhere else a key in the URL would end up in logs
      k = req.getParam("api_key");
    }
    return k == null || k.isBlank() ? null : k;
  }

  /** The cookie with the attributes every session cookie has; {@code Secure} when the browser came over TLS. */
  private static Cookie cookie(RoutingContext ctx, String name, String value, long maxAgeSeconds) {
    String proto = ctx.request().getHeader("X-Forwarded-Proto");
    boolean tls = ctx.request().isSSL()
        || proto != null && proto.split(",")[0].trim().equalsIgnoreCase("https");
    return Cookie.cookie(name, value).setPath("/").setHttpOnly(true).setSameSite(CookieSameSite.STRICT)
        .setSecure(tls).setMaxAge(maxAgeSeconds);
  }

  /** Sessions are looked up by the token's digest: the table never holds a usable token. */
  private static String tokenId(String token) {
    return HexFormat.of().formatHex(sha256(token));
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
