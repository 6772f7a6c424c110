package io.unimatte.api;

import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** API keys, per-key rate limits and CORS, when configured; open and same-origin by default. */
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

  @Test
  void theWebPageCanBePutBehindAKey() throws Exception {
    TinyModel.write(models, "tiny");
    String key = "ui-" + UUID.randomUUID();
    try (TestServer s = TestServer.start(models, "tiny", null, cfg -> cfg.getJsonObject("security")
        .put("apiKeys", new JsonArray().add(key)).put("protectUi", true))) {
      HttpResponse<byte[]> page = s.get("/");
      assertEquals(401, page.statusCode());
      assertTrue(new String(page.body()).contains("needs an API key"), "the login page");
      assertEquals(200, s.get("/login.html").statusCode());
      assertEquals(200, s.get("/health").statusCode());
      HttpResponse<byte[]> withCookie = http.send(HttpRequest.newBuilder(s.uri("/"))
          .header("Cookie", "unimatte_key=" + key).build(), HttpResponse.BodyHandlers.ofByteArray());
      assertEquals(200, withCookie.statusCode());
      assertTrue(new String(withCookie.body()).contains("Unimatte"));
      HttpResponse<byte[]> api = http.send(HttpRequest.newBuilder(s.uri("/api/v1/jobs"))
          .header("Cookie", "unimatte_key=" + key).build(), HttpResponse.BodyHandlers.ofByteArray());
      assertEquals(200, api.statusCode(), "the page's own API calls carry the cookie");
      HttpResponse<byte[]> wrong = http.send(HttpRequest.newBuilder(s.uri("/app.js"))
          .header("Cookie", "unimatte_key=nope").build(), HttpResponse.BodyHandlers.ofByteArray());
      assertEquals(401, wrong.statusCode());
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
    }
  }
}
