package io.unimatte.api;

import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code image_url} and {@code image_b64} inputs, and the address checks on URLs (no network:
 * the only server contacted is a local one on 127.0.0.1; forbidden addresses are refused before
 * any connection is made).
 */
class UrlInputTest {
  @TempDir
  static Path models;
  private static Vertx origin;
  private static HttpServer originServer;
  private static final AtomicInteger HITS = new AtomicInteger();
  private static final AtomicInteger TRICKLE_CLOSED = new AtomicInteger();
  private static final long TRICKLE_MS = 700;
  private static final long DEADLINE_MS = 2_500;
  /** The issue's acceptance bound: given up within {@code urlFetch.timeoutMs} + 2 s. */
  private static final long MARGIN_MS = 2_000;
  private static byte[] png;

  @BeforeAll
  static void startOrigin() throws Exception {
    TinyModel.write(models, "tiny");
    png = MatteApiTest.encode(MatteApiTest.bands(), "png");
    origin = Vertx.vertx();
    originServer = origin.createHttpServer().requestHandler(req -> {
      HITS.incrementAndGet();
      switch (req.path()) {
        case "/photo.png" -> req.response().putHeader("Content-Type", "image/png").end(Buffer.buffer(png));
        case "/to-private" -> req.response().setStatusCode(302).putHeader("Location", "http://10.0.0.1/x.png").end();
        case "/to-metadata" -> req.response().setStatusCode(301)
            .putHeader("Location", "http://169.254.169.254/latest/meta-data/").end();
        case "/big" -> req.response().putHeader("Content-Type", "image/png").end(Buffer.buffer(new byte[200_000]));
        case "/trickle" -> {
          // the headers at once, then one byte every TRICKLE_MS for as long as the client listens
          req.response().setChunked(true).putHeader("Content-Type", "image/png").writeHead();
          long timer = origin.setPeriodic(TRICKLE_MS, id -> req.response().write(Buffer.buffer(new byte[] {0})));
          req.connection().closeHandler(v -> {
            origin.cancelTimer(timer);
            TRICKLE_CLOSED.incrementAndGet();
          });
        }
        case "/silent" -> {
          // accepts the request and never answers
        }
        default -> req.response().setStatusCode(404).end();
      }
    }).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stopOrigin() throws Exception {
    origin.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static String origin(String path) {
    return "http://127.0.0.1:" + originServer.actualPort() + path;
  }

  private static HttpResponse<byte[]> byUrl(TestServer server, String url) throws Exception {
    return server.postRaw("/api/v1/matte?output=alpha", "application/json",
        new JsonObject().put("image_url", url).encode().getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void forbiddenAddressesAreRefusedByDefault() throws Exception {
    try (TestServer server = TestServer.start(models, "tiny", null, cfg -> { })) {
      int before = HITS.get();
      for (String url : new String[] {origin("/photo.png"), "http://10.0.0.1/x.png", "http://169.254.169.254/latest/",
          "http://[::1]:9/x.png", "http://0.0.0.0/x.png", "http://[::127.0.0.1]:" + originServer.actualPort() + "/photo.png",
          "http://[::ffff:127.0.0.1]/x.png", "http://[64:ff9b::a00:1]/x.png", "http://[64:ff9b::7f00:1]/x.png",
          "http://[2002:c0a8:101::1]/x.png", "http://[2002:7f00:1::]/x.png", "http://100.64.0.1/x.png",
          "http://198.18.0.1/x.png", "http://198.19.255.254/x.png", "http://240.0.0.1/x.png",
          "http://255.255.255.255/x.png", "http://[fd00:ec2::254]/latest/", "http://0.1.2.3/x.png",
          "http://2130706433:" + originServer.actualPort() + "/photo.png"}) {
        HttpResponse<byte[]> r = byUrl(server, url);
        assertEquals(400, r.statusCode(), url);
        assertEquals("url_forbidden", MatteApiTest.error(r).getString("code"), url);
      }
      assertEquals(before, HITS.get(), "no connection was made to a refused address");
      HttpResponse<byte[]> r = byUrl(server, "file:///etc/passwd");
      assertEquals("invalid_url", MatteApiTest.error(r).getString("code"));
    }
  }

  @Test
  void allowedLoopbackFetchesButRedirectsToPrivateOrMetadataAreRefused() throws Exception {
    try (TestServer server = TestServer.start(models, "tiny", null,
        cfg -> cfg.getJsonObject("urlFetch").put("allowLoopback", true).put("maxBytes", 100_000))) {
      HttpResponse<byte[]> ok = byUrl(server, origin("/photo.png"));
      assertEquals(200, ok.statusCode(), new String(ok.body()));
      assertEquals(String.valueOf(MatteApiTest.bands().getWidth()), ok.headers().firstValue("X-Width").orElseThrow());

      HttpResponse<byte[]> q = server.postRaw("/api/v1/matte?image_url="
          + URLEncoder.encode(origin("/photo.png"), StandardCharsets.UTF_8), "text/plain", new byte[0]);
      assertEquals(200, q.statusCode(), new String(q.body()));

      for (String path : new String[] {"/to-private", "/to-metadata"}) {
        HttpResponse<byte[]> r = byUrl(server, origin(path));
        assertEquals(400, r.statusCode(), path);
        assertEquals("url_forbidden", MatteApiTest.error(r).getString("code"), path);
      }
      HttpResponse<byte[]> big = byUrl(server, origin("/big"));
      assertEquals(413, big.statusCode());
      assertEquals("url_too_large", MatteApiTest.error(big).getString("code"));
      HttpResponse<byte[]> missing = byUrl(server, origin("/nope.png"));
      assertEquals("url_fetch_failed", MatteApiTest.error(missing).getString("code"));
    }
  }

  @Test
  void aTricklingOrSilentOriginIsGivenUpAtTheDeadline() throws Exception {
    try (TestServer server = TestServer.start(models, "tiny", null,
        cfg -> cfg.getJsonObject("urlFetch").put("allowLoopback", true).put("timeoutMs", DEADLINE_MS))) {
      // warm: the first fetch of a fresh JVM loads the HTTP client's classes, which is no part of the deadline
      assertEquals(200, byUrl(server, origin("/photo.png")).statusCode());
      for (String path : new String[] {"/trickle", "/silent"}) {
        int closedBefore = TRICKLE_CLOSED.get();
        long t0 = System.nanoTime();
        HttpResponse<byte[]> r = byUrl(server, origin(path));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(504, r.statusCode(), path + ": " + new String(r.body()));
        assertEquals("url_timeout", MatteApiTest.error(r).getString("code"), path);
        assertTrue(ms < DEADLINE_MS + MARGIN_MS, path + " took " + ms + " ms");
        assertTrue(ms >= DEADLINE_MS - MARGIN_MS, path + " gave up too early: " + ms + " ms");
        if (path.equals("/trickle")) {
          long until = System.currentTimeMillis() + MARGIN_MS;
          while (TRICKLE_CLOSED.get() == closedBefore && System.currentTimeMillis() < until) {
            Thread.sleep(50);
          }
          assertTrue(TRICKLE_CLOSED.get() > closedBefore, "the trickling connection was closed, not left open");
        }
      }
    }
  }

  @Test
  void connectionErrorsDoNotEchoInternalDetails() throws Exception {
    int closedPort;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    try (TestServer server = TestServer.start(models, "tiny", null,
        cfg -> cfg.getJsonObject("urlFetch").put("allowLoopback", true))) {
      HttpResponse<byte[]> r = byUrl(server, "http://127.0.0.1:" + closedPort + "/x.png");
      assertEquals(422, r.statusCode(), new String(r.body()));
      JsonObject err = MatteApiTest.error(r);
      assertEquals("url_fetch_failed", err.getString("code"));
      String message = err.getString("message");
      assertFalse(message.contains(String.valueOf(closedPort)) || message.contains("127.0.0.1")
          || message.toLowerCase(java.util.Locale.ROOT).contains("exception"), message);
    }
  }

  @Test
  void base64BodyWorksAndBadBase64OrJsonIsExplained() throws Exception {
    try (TestServer server = TestServer.start(models, "tiny", null, cfg -> { })) {
      HttpResponse<byte[]> ok = server.postRaw("/api/v1/matte", "application/json",
          new JsonObject().put("image_b64", Base64.getEncoder().encodeToString(png)).encode().getBytes());
      assertEquals(200, ok.statusCode(), new String(ok.body()));
      HttpResponse<byte[]> bad = server.postRaw("/api/v1/matte", "application/json",
          new JsonObject().put("image_b64", "@@not base64@@").encode().getBytes());
      assertEquals("invalid_base64", MatteApiTest.error(bad).getString("code"));
      HttpResponse<byte[]> json = server.postRaw("/api/v1/matte", "application/json", "{oops".getBytes());
      assertEquals(400, json.statusCode());
      assertEquals("invalid_json", MatteApiTest.error(json).getString("code"));
    }
  }
}
