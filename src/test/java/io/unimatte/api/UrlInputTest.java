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
          "http://[::1]:9/x.png", "http://0.0.0.0/x.png"}) {
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
