package io.unimatte.api;

import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.util.UUID;
import java.net.http.WebSocketHandshakeException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * API keys, the web page's login sessions, per-key rate limits, limits on wrong keys, CORS and the
 * WebSocket's Origin check, when configured; open and same-origin by default.
 */
class SecurityTest {
  @TempDir
  Path models;
  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<byte[]> post(TestServer s, String header, String value) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(s.uri("/api/v1/matte?output=alpha")).header("Content-Type", "image/png")
        .POST(HttpRequest.BodyPublishers.ofByteArray(MatteApiTest.encode(MatteApiTest.bands(), "png")));
    if (header != null) {
      b.header(header, value);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private CompletableFuture<WebSocket> wsWithOrigin(TestServer s, String origin, String query) {
    return http.newWebSocketBuilder().header("Origin", origin)
        .buildAsync(URI.create("ws://127.0.0.1:" + s.port() + "/api/v1/ws" + query), new WebSocket.Listener() { });
  }

  /** The HTTP status a refused WebSocket handshake got. */
  private static int handshakeStatus(CompletableFuture<WebSocket> ws) {
    CompletionException refused = assertThrows(CompletionException.class, ws::join);
    assertTrue(refused.getCause() instanceof WebSocketHandshakeException, refused.toString());
    return ((WebSocketHandshakeException) refused.getCause()).getResponse().statusCode();
  }

  @Test
  void keysRateLimitsAndCorsWhenConfigured() throws Exception {
    TinyModel.write(models, "tiny");
    String key = "k-" + UUID.randomUUID();
    try (TestServer s = TestServer.start(models, "tiny", null, cfg -> cfg.getJsonObject("security")
        .put("apiKeys", new JsonArray().add(key)).put("rateLimitPerMinute", 3)
        .put("corsAllowedOrigins", new JsonArray().add("https://shop.example")))) {
      HttpResponse<byte[]> none = post(s, null, null);
      assertEquals(401, none.statusCode());
      assertEquals("missing_api_key", MatteApiTest.error(none).getString("code"));
      assertEquals("invalid_api_key", MatteApiTest.error(post(s, "X-Api-Key", "wrong")).getString("code"));
      assertEquals(401, s.get("/api/v1/jobs").statusCode());
      assertEquals(200, s.get("/health").statusCode(), "health stays open for load balancers");
      assertEquals(200, s.get("/").statusCode(), "the page itself is open");

      HttpResponse<byte[]> ok = post(s, "X-Api-Key", key);
      assertEquals(200, ok.statusCode());
      assertEquals("3", ok.headers().firstValue("X-RateLimit-Limit").orElseThrow());
      assertEquals("2", ok.headers().firstValue("X-RateLimit-Remaining").orElseThrow());
      assertTrue(Long.parseLong(ok.headers().firstValue("X-RateLimit-Reset").orElseThrow()) >= 1);
      assertEquals(200, post(s, "Authorization", "Bearer " + key).statusCode());
      assertEquals(200, post(s, "X-Api-Key", key).statusCode());
      HttpResponse<byte[]> limited = post(s, "X-Api-Key", key);
      assertEquals(429, limited.statusCode());
      assertEquals("rate_limited", MatteApiTest.error(limited).getString("code"));
      assertTrue(limited.headers().firstValue("Retry-After").isPresent());

      HttpResponse<byte[]> preflight = http.send(HttpRequest.newBuilder(s.uri("/api/v1/matte"))
          .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", "https://shop.example")
          .header("Access-Control-Request-Method", "POST").build(), HttpResponse.BodyHandlers.ofByteArray());
      assertEquals("https://shop.example", preflight.headers().firstValue("Access-Control-Allow-Origin").orElse(""));
      HttpResponse<byte[]> evil = http.send(HttpRequest.newBuilder(s.uri("/health")).header("Origin", "https://evil.example")
          .build(), HttpResponse.BodyHandlers.ofByteArray());
      assertFalse(evil.headers().firstValue("Access-Control-Allow-Origin").isPresent());
      assertEquals(403, evil.statusCode());
      assertEquals("forbidden_origin", MatteApiTest.error(evil).getString("code"));

      CompletionException refused = assertThrows(CompletionException.class, () -> http.newWebSocketBuilder()
          .buildAsync(URI.create("ws://127.0.0.1:" + s.port() + "/api/v1/ws"), new WebSocket.Listener() { }).join());
      assertTrue(refused.getCause() instanceof java.net.http.WebSocketHandshakeException, refused.toString());
      assertEquals(401, ((java.net.http.WebSocketHandshakeException) refused.getCause()).getResponse().statusCode());
    }
  }

  private HttpResponse<byte[]> send(TestServer s, String method, String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(s.uri(path)).method(method, HttpRequest.BodyPublishers.noBody());
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  /** The Set-Cookie header for {@code name}, or "" when there is none. */
  private static String setCookie(HttpResponse<?> r, String name) {
    return r.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith(name + "=")).findFirst().orElse("");
  }

  private static String token(String setCookie) {
    return setCookie.substring(setCookie.indexOf('=') + 1, setCookie.indexOf(';'));
  }

  /** Window-based counters reset on the minute: start a counting test well inside one. */
  private static void awayFromMinuteEnd() throws InterruptedException {
    long intoMinute = System.currentTimeMillis() % 60_000;
    if (intoMinute > 50_000) {
      Thread.sleep(60_000 - intoMinute + 100);
    }
  }

  @Test
  void theWebPageLogsInWithASessionCookieNeverTheKey() throws Exception {
    TinyModel.write(models, "tiny");
    String key = "ui-" + UUID.randomUUID();
    long maxAge = 3;
    try (TestServer s = TestServer.start(models, "tiny", null, cfg -> cfg.getJsonObject("security")
        .put("apiKeys", new JsonArray().add(key)).put("protectUi", true).put("sessionMaxAgeSeconds", maxAge))) {
      HttpResponse<byte[]> page = s.get("/");
      assertEquals(401, page.statusCode());
      assertTrue(new String(page.body()).contains("needs an API key"), "the login page");
      assertEquals(200, s.get("/login.html").statusCode());
      assertEquals(200, s.get("/health").statusCode());
      assertEquals(401, send(s, "GET", "/", "Cookie", "unimatte_key=" + key).statusCode(),
          "the raw key in a cookie (what the old login page stored) no longer opens the page");

      HttpResponse<byte[]> wrong = send(s, "POST", "/api/v1/login", "X-Api-Key", "nope");
      assertEquals(401, wrong.statusCode());
      assertEquals("invalid_api_key", MatteApiTest.error(wrong).getString("code"));
      assertEquals("", setCookie(wrong, AccessControl.COOKIE));

      HttpResponse<byte[]> login = send(s, "POST", "/api/v1/login", "X-Api-Key", key);
      assertEquals(200, login.statusCode(), new String(login.body()));
      String cookie = setCookie(login, AccessControl.COOKIE);
      assertTrue(cookie.toLowerCase(java.util.Locale.ROOT).contains("; httponly"), cookie);
      assertTrue(cookie.contains("; SameSite=Strict"), cookie);
      assertTrue(cookie.contains("; Path=/"), cookie);
      assertTrue(cookie.contains("; Max-Age=" + maxAge), cookie);
      assertFalse(cookie.contains("Secure"), "plain http: no Secure flag, " + cookie);
      String token = token(cookie);
      assertTrue(token.length() >= 40, "a random token of 32 bytes: " + token);
      assertFalse(cookie.contains(key) || new String(login.body()).contains(key), "the key never goes back");
      assertTrue(setCookie(login, "unimatte_key").contains("Max-Age=0"), "the old page's key cookie is cleared");
      assertTrue(setCookie(send(s, "POST", "/api/v1/login", "X-Api-Key", key, "X-Forwarded-Proto", "https"),
          AccessControl.COOKIE).contains("; Secure"), "behind a TLS proxy the cookie is Secure");

      String session = AccessControl.COOKIE + "=" + token;
      HttpResponse<byte[]> withSession = send(s, "GET", "/", "Cookie", session);
      assertEquals(200, withSession.statusCode());
      assertTrue(new String(withSession.body()).contains("Unimatte"));
      assertEquals("no-cache", withSession.headers().firstValue("Cache-Control").orElse(""),
          "a protected page is asked for again each time, not opened from the cache after logout");
      assertEquals(200, send(s, "GET", "/api/v1/jobs", "Cookie", session).statusCode(),
          "the page's own API calls carry the session");
      JsonObject who = new JsonObject(new String(send(s, "GET", "/api/v1/session", "Cookie", session).body()));
      assertEquals("session", who.getString("via"));
      assertTrue(who.containsKey("expiresAt"));
      assertEquals(401, send(s, "GET", "/app.js", "Cookie", AccessControl.COOKIE + "=forged").statusCode());

      assertEquals(401, s.get("/api/v1/jobs?api_key=" + key).statusCode(), "?api_key= only on the WebSocket");
      WebSocket ws = http.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + s.port() + "/api/v1/ws?api_key="
          + key), new WebSocket.Listener() { }).get(10, TimeUnit.SECONDS);
      ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();

      HttpResponse<byte[]> logout = send(s, "POST", "/api/v1/logout", "Cookie", session);
      assertEquals(204, logout.statusCode());
      assertTrue(setCookie(logout, AccessControl.COOKIE).contains("Max-Age=0"), setCookie(logout, AccessControl.COOKIE));
      assertEquals(401, send(s, "GET", "/", "Cookie", session).statusCode(), "logged out: the token is dead");
      HttpResponse<byte[]> dead = send(s, "GET", "/api/v1/jobs", "Cookie", session);
      assertEquals("missing_api_key", MatteApiTest.error(dead).getString("code"));
      assertTrue(MatteApiTest.error(dead).getString("message").contains("log in again"));

      String expiring = AccessControl.COOKIE + "=" + token(setCookie(send(s, "POST", "/api/v1/login", "X-Api-Key", key),
          AccessControl.COOKIE));
      assertEquals(200, send(s, "GET", "/api/v1/jobs", "Cookie", expiring).statusCode());
      Thread.sleep(maxAge * 1000 + 500);
      assertEquals(401, send(s, "GET", "/api/v1/jobs", "Cookie", expiring).statusCode(), "the session expired");
    }
  }

  @Test
  void wrongKeysAreLimitedPerAddressEvenWithoutARateLimit() throws Exception {
    TinyModel.write(models, "tiny");
    String key = "k-" + UUID.randomUUID();
    int attempts = 3;
    try (TestServer s = TestServer.start(models, "tiny", null, cfg -> cfg.getJsonObject("security")
        .put("apiKeys", new JsonArray().add(key)).put("failedKeyAttemptsPerMinute", attempts))) {
      awayFromMinuteEnd();
      String session = AccessControl.COOKIE + "=" + token(setCookie(send(s, "POST", "/api/v1/login", "X-Api-Key", key),
          AccessControl.COOKIE));
      assertEquals(401, send(s, "POST", "/api/v1/login", "X-Api-Key", "guess-0").statusCode());
      for (int i = 1; i < attempts; i++) {
        assertEquals(401, post(s, "X-Api-Key", "guess-" + i).statusCode());
      }
      for (String k : new String[] {"guess-x", key}) {
        HttpResponse<byte[]> blocked = post(s, "X-Api-Key", k);
        assertEquals(429, blocked.statusCode(), "past the limit every key is refused, the right one too");
        assertEquals("rate_limited", MatteApiTest.error(blocked).getString("code"));
        assertTrue(blocked.headers().firstValue("Retry-After").isPresent());
      }
      assertEquals(429, send(s, "POST", "/api/v1/login", "X-Api-Key", key).statusCode());
      assertEquals(200, send(s, "GET", "/api/v1/jobs", "Cookie", session).statusCode(),
          "a session made before keeps working: it is no guess");
    }
  }

  @Test
  void listedOriginsMayOpenTheWebSocket() throws Exception {
    TinyModel.write(models, "tiny");
    String key = "k-" + UUID.randomUUID();
    try (TestServer s = TestServer.start(models, "tiny", null, cfg -> cfg.getJsonObject("security")
        .put("apiKeys", new JsonArray().add(key)).put("corsAllowedOrigins", new JsonArray().add("https://shop.example")))) {
      for (String ok : new String[] {"https://shop.example", "http://127.0.0.1:" + s.port()}) {
        wsWithOrigin(s, ok, "?api_key=" + key).get(10, TimeUnit.SECONDS).sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
      }
      assertEquals(403, handshakeStatus(wsWithOrigin(s, "https://evil.example", "?api_key=" + key)));
      assertEquals(403, handshakeStatus(wsWithOrigin(s, "http://shop.example", "?api_key=" + key)), "another scheme");
      HttpResponse<byte[]> own = send(s, "GET", "/health", "Origin", "http://127.0.0.1:" + s.port());
      assertEquals(200, own.statusCode(), "the page's own calls carry Origin too and are no CORS requests");
    }
  }

  @Test
  void openAndSameOriginByDefault() throws Exception {
    TinyModel.write(models, "tiny");
    try (TestServer s = TestServer.start(models, "tiny", null, cfg -> { })) {
      assertEquals(200, post(s, null, null).statusCode());
      HttpResponse<byte[]> cross = http.send(HttpRequest.newBuilder(s.uri("/health")).header("Origin", "https://shop.example")
          .build(), HttpResponse.BodyHandlers.ofByteArray());
      assertFalse(cross.headers().firstValue("Access-Control-Allow-Origin").isPresent(), "CORS closed by default");
      WebSocket ws = http.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + s.port() + "/api/v1/ws"),
          new WebSocket.Listener() { }).get(10, TimeUnit.SECONDS);
      ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
      for (String own : new String[] {"http://127.0.0.1:" + s.port(), "http://127.0.0.1:" + s.port() + "/"}) {
        wsWithOrigin(s, own, "").get(10, TimeUnit.SECONDS).sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
      }
      for (String foreign : new String[] {"https://evil.example", "http://127.0.0.1:" + (s.port() + 1), "null",
          "http://localhost:" + s.port(), "file://", "chrome-extension://abc"}) {
        assertEquals(403, handshakeStatus(wsWithOrigin(s, foreign, "")), foreign);
      }
    }
  }
}
