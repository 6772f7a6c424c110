package io.unimatte.api;

import io.unimatte.testing.RawHttp;
import io.unimatte.testing.TestServer;
import io.unimatte.testing.TestSessions;
import io.unimatte.testing.TinyModel;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code Expect: 100-continue}, as curl sends it for every body over 1 MB: the upload routes answer
 * {@code 100 Continue} at once when they will take the body, and otherwise their final answer (413, 401,
 * 429, 503) without reading it, closing the connection so the client does not send it after all.
 */
class ExpectContinueTest {
  /** The acceptance bound: curl waits up to 1 s for the 100; it must come at once. */
  private static final Duration CONTINUE_WITHIN = Duration.ofMillis(100);
  private static final Duration ANSWER_WITHIN = Duration.ofSeconds(30);
  private static final Duration CLOSED_WITHIN = Duration.ofSeconds(5);
  /** Requests per minute of the second server's key: the filling, the full queue, then 429. */
  private static final int LIMIT = 6;
  private static final int FILL_ATTEMPTS = 4;
  /** Exchanges per route to see the 100 within the bound. */
  private static final int TRIES = 3;
  /** The in-flight budget of the first server: room for one stalled upload of 2.5 MB, not two. */
  private static final long BUDGET = 3_000_000;
  @TempDir
  Path models;

  private static Map<String, String> head(RawHttp.Form form, long length, String... more) {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("Content-Type", form.contentType());
    h.put("Content-Length", Long.toString(length));
    h.put("Expect", "100-continue");
    for (int i = 0; i < more.length; i += 2) {
      h.put(more[i], more[i + 1]);
    }
    return h;
  }

  /** Sends the head, expects 100 (its delay goes to {@code ms}), sends the body; returns the final answer. */
  private static RawHttp.Response continued(RawHttp c, String path, RawHttp.Form form, long[] ms) throws Exception {
    long t0 = System.nanoTime();
    c.sendHead("POST", path, head(form, form.body().length));
    RawHttp.Response interim = c.readHead(ANSWER_WITHIN);
    ms[0] = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(100, interim.status(), path + ": an interim 100 Continue first");
    c.send(form.body());
    return c.readResponse(ANSWER_WITHIN);
  }

  /**
   * {@link #continued} on one connection, again while the 100 took longer than the bound (at most
   * {@link #TRIES} times: on a shared 2-core machine a scheduling hiccup is not the server's answer).
   */
  private static RawHttp.Response continuedAtOnce(RawHttp c, String path, RawHttp.Form form, int expected)
      throws Exception {
    long[] ms = {0};
    long best = Long.MAX_VALUE;
    RawHttp.Response r = null;
    for (int i = 0; i < TRIES && best > CONTINUE_WITHIN.toMillis(); i++) {
      r = continued(c, path, form, ms);
      assertEquals(expected, r.status(), path + ": " + r.text());
      best = Math.min(best, ms[0]);
    }
    System.out.printf("%s: 100 Continue after %d ms%n", path, best);
    assertTrue(best <= CONTINUE_WITHIN.toMillis(), path + ": 100 Continue after " + best + " ms");
    return r;
  }

  /** Sends only the head; the answer must be final, and the connection closed without the body. */
  private static RawHttp.Response refusedBeforeBody(int port, String path, RawHttp.Form form, long length,
                                                    String... more) throws Exception {
    try (RawHttp c = RawHttp.connect(port)) {
      c.sendHead("POST", path, head(form, length, more));
      RawHttp.Response r = c.readResponse(ANSWER_WITHIN);
      assertTrue(r.status() >= 400, path + ": a final answer instead of 100, got " + r.status());
      assertEquals("close", r.header("connection"), path + ": the answer says the connection ends");
      assertTrue(c.closedWithin(CLOSED_WITHIN), path + ": the server closed the connection (no body is coming)");
      return r;
    }
  }

  private static String code(RawHttp.Response r) {
    return new JsonObject(r.text()).getJsonObject("error").getString("code");
  }

  private static RawHttp.Form png(String field) throws Exception {
    return RawHttp.multipart(field, "bands.png", MatteApiTest.encode(MatteApiTest.bands(), "png"));
  }

  @Test
  void everyUploadRouteContinuesAtOnceAndRefusesBeforeTheBody() throws Exception {
    TinyModel.write(models, "tiny");
    // h2c on (off by default, see HttpServers): the HTTP/2 part below speaks it with prior knowledge
    try (TestServer server = TestServer.start(models, "tiny", null, cfg -> cfg.getJsonObject("server")
        .put("maxInFlightBytes", BUDGET).put(HttpServers.HTTP2_CLEAR_TEXT, true))) {
      try (RawHttp c = RawHttp.connect(server.port())) {
        // a first exchange loads what the first request of a fresh JVM loads; then the bound applies
        assertEquals(200, continued(c, "/api/v1/matte?output=alpha", png("image"), new long[1]).status());
        // the same connection goes on: nothing of an exchange is left unread
        RawHttp.Response matte = continuedAtOnce(c, "/api/v1/matte?output=alpha", png("image"), 200);
        assertEquals("image/png", matte.header("content-type"));
        continuedAtOnce(c, "/v1.0/removebg", png("image_file"), 200);
        continuedAtOnce(c, "/api/v1/jobs", png("image"), 202);
      }

      // a declared length over server.maxRequestBytes: 413 without a byte of the body
      RawHttp.Response big = refusedBeforeBody(server.port(), "/api/v1/matte", png("image"), 60_000_000);
      assertEquals(413, big.status());
      assertEquals("payload_too_large", code(big));
      RawHttp.Response bigBg = refusedBeforeBody(server.port(), "/v1.0/removebg", png("image_file"), 60_000_000);
      assertEquals(413, bigBg.status());
      assertEquals("payload_too_large", new JsonObject(bigBg.text()).getJsonArray("errors").getJsonObject(0)
          .getString("code"), "remove.bg's own error shape");

      // the budget: one stalled upload of 2.5 MB holds it, a second one is refused at its head
      try (RawHttp stalled = RawHttp.connect(server.port())) {
        RawHttp.Form form = png("image");
        stalled.sendHead("POST", "/api/v1/matte", Map.of("Content-Type", form.contentType(),
            "Content-Length", "2500000"));
        stalled.send(new byte[1000]);
        RawHttp.Response busy = busyWithin(server.port(), form, Duration.ofSeconds(10));
        assertEquals("server_busy", code(busy));
        assertTrue(Long.parseLong(busy.header("retry-after")) >= 1);
      }
      // once the stalled client is gone its share comes back
      long deadline = System.currentTimeMillis() + 10_000;
      while (true) {
        try (RawHttp c = RawHttp.connect(server.port())) {
          c.sendHead("POST", "/api/v1/matte?output=alpha", head(png("image"), 1_000_000));
          RawHttp.Response r = c.readHead(ANSWER_WITHIN);
          if (r.status() == 100) {
            break;
          }
          assertTrue(System.currentTimeMillis() < deadline, "the budget came back after the client left");
          Thread.sleep(100);
        }
      }
      http2(server.port());
    }
  }

  /** Sends the head of a 1 MB upload until it is refused with 503 server_busy (the stalled one is being read). */
  private static RawHttp.Response busyWithin(int port, RawHttp.Form form, Duration within) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      try (RawHttp c = RawHttp.connect(port)) {
        c.sendHead("POST", "/api/v1/matte", head(form, 1_000_000));
        RawHttp.Response r = c.readResponse(ANSWER_WITHIN);
        if (r.status() == 503) {
          assertEquals("close", r.header("connection"));
          assertTrue(c.closedWithin(CLOSED_WITHIN));
          return r;
        }
        assertEquals(100, r.status(), "either 100 (the stalled upload is not counted yet) or 503");
      }
      assertTrue(System.nanoTime() < deadline, "no server_busy while a stalled upload holds the budget");
      Thread.sleep(50);
    }
  }

  /** The same over HTTP/2 (h2c, prior knowledge): 100 then the answer; 413 without a continue. */
  private static void http2(int port) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      HttpClientAgent client = vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
          .setHttp2ClearTextUpgrade(false).setDefaultHost("127.0.0.1").setDefaultPort(port));
      RawHttp.Form form = png("image");
      AtomicBoolean continued = new AtomicBoolean();
      String answer = post2(client, form, form.body().length, continued, true).get(30, TimeUnit.SECONDS);
      assertTrue(continued.get(), "HTTP/2: 100 Continue came");
      assertEquals("HTTP_2 200", answer);
      AtomicBoolean continuedBig = new AtomicBoolean();
      String big = post2(client, form, 60_000_000, continuedBig, false).get(30, TimeUnit.SECONDS);
      assertEquals("HTTP_2 413", big);
      assertFalse(continuedBig.get(), "HTTP/2: no 100 Continue for a body that is refused");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** Posts over HTTP/2 with the expectation; the answer's protocol and status, e.g. {@code HTTP_2 200}. */
  private static CompletableFuture<String> post2(HttpClientAgent client, RawHttp.Form form, long length,
                                                  AtomicBoolean continued, boolean sendOnContinue) {
    return client.request(HttpMethod.POST, "/api/v1/matte?output=alpha").compose(req -> {
      req.putHeader("Content-Type", form.contentType()).putHeader("Content-Length", Long.toString(length))
          .putHeader("Expect", "100-continue");
      req.continueHandler(v -> {
        continued.set(true);
        if (sendOnContinue) {
          req.end(Buffer.buffer(form.body()));
        }
      });
      Future<String> answer = req.response().compose(r -> r.body().map(b -> r.version() + " " + r.statusCode()));
      return req.sendHead().compose(v -> answer);
    }).toCompletionStage().toCompletableFuture();
  }

  @Test
  void keysRateLimitAndFullQueueAreAnsweredBeforeTheBody() throws Exception {
    Path dir = TinyModel.write(models, "tiny");
    CountDownLatch gate = new CountDownLatch(1);
    String key = "expect-key";
    try (TestServer server = TestServer.start(models, "tiny", TestSessions.slowTinyModel(dir, 0, gate), cfg -> {
      cfg.getJsonObject("security").put("apiKeys", new JsonArray().add(key)).put("rateLimitPerMinute", LIMIT);
      cfg.getJsonObject("inference").put("maxBatchSize", 1).put("maxBatchDelayMs", 0).put("maxQueueSize", 1)
          .put("warmupRuns", 0);
      cfg.getJsonObject("cache").put("enabled", false);
    })) {
      RawHttp.Form form = png("image");
      RawHttp.Response noKey = refusedBeforeBody(server.port(), "/api/v1/matte", form, form.body().length);
      assertEquals(401, noKey.status());
      assertEquals("missing_api_key", code(noKey));

      // one image in the (gated) model, one in its queue of 1: the queue is full (a second image may
      // find the first still queued and be refused: then one more)
      HttpClient http = HttpClient.newHttpClient();
      List<CompletableFuture<HttpResponse<String>>> filling = new ArrayList<>();
      long deadline = System.currentTimeMillis() + 30_000;
      while (new JsonObject(new String(server.get("/health").body())).getInteger("queueDepth", 0) < 1) {
        assertTrue(filling.size() < FILL_ATTEMPTS && System.currentTimeMillis() < deadline, "the queue filled");
        filling.add(fill(http, server, key, filling.size() + 1));
        Thread.sleep(300);
      }
      RawHttp.Response full = refusedBeforeBody(server.port(), "/api/v1/matte", form, form.body().length,
          "X-Api-Key", key);
      assertEquals(503, full.status(), full.text());
      assertEquals("queue_full", code(full));
      assertNotNull(full.header("retry-after"));

      // past the limit of this minute (a new minute may have begun meanwhile: at most once more)
      RawHttp.Response limited = null;
      for (int i = 0; i < 2 * LIMIT + 1 && limited == null; i++) {
        RawHttp.Response r = refusedBeforeBody(server.port(), "/api/v1/matte", form, form.body().length,
            "X-Api-Key", key);
        limited = r.status() == 429 ? r : null;
      }
      assertNotNull(limited, "rate limited");
      assertEquals("rate_limited", code(limited));
      assertNotNull(limited.header("retry-after"));

      gate.countDown();
      int served = 0;
      for (CompletableFuture<HttpResponse<String>> f : filling) {
        HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
        assertTrue(r.statusCode() == 200 || r.body().contains("queue_full"), r.body());
        served += r.statusCode() == 200 ? 1 : 0;
      }
      assertEquals(2, served, "the images that were taken are served");
    }
  }

  private static CompletableFuture<HttpResponse<String>> fill(HttpClient http, TestServer server, String key, int seed)
      throws Exception {
    RawHttp.Form form = RawHttp.multipart("image", "f.png", MatteApiTestAccess.png(seed));
    return http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/api/v1/matte"))
        .header("Content-Type", form.contentType()).header("X-Api-Key", key)
        .POST(HttpRequest.BodyPublishers.ofByteArray(form.body())).build(), HttpResponse.BodyHandlers.ofString());
  }
}
