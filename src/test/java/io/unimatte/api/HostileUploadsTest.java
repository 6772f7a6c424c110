package io.unimatte.api;

import io.unimatte.testing.RawHttp;
import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Uploads meant to hurt: bodies that stall or trickle are timed out, a crowd of large stalled uploads
 * meets 503 {@code server_busy} instead of exhausting the heap, and a multipart body built to make the
 * boundary search quadratic is answered at once.
 */
class HostileUploadsTest {
  private static final int IDLE_SECONDS = 1;
  private static final int BODY_SECONDS = 3;
  /** The numbers: 40 uploads that declare 52 MB and stall after 49 MB. */
  private static final int STALLED = 40;
  private static final long DECLARED = 52_000_000;
  private static final long SENT = 49_000_000;
  /** The small heap of the separate server; its budget is a quarter of it (about 128 MB: two such uploads). */
  private static final String HEAP = "-Xmx512m";
  /** How long the separate server lets a stalled body wait: long enough to serve a normal request meanwhile. */
  private static final int CROWD_IDLE_SECONDS = 15;
  private static final Pattern METRIC = Pattern.compile("^(unimatte_[a-z_]+) ([0-9.Ee+-]+)$", Pattern.MULTILINE);
  @TempDir
  Path models;
  @TempDir
  Path outputs;

  @Test
  void stalledAndTricklingBodiesTimeOutAndHostileBoundariesAreCheap() throws Exception {
    TinyModel.write(models, "tiny");
    try (TestServer server = TestServer.start(models, "tiny", null, cfg -> cfg.getJsonObject("server")
        .put("idleTimeoutSeconds", IDLE_SECONDS).put("bodyTimeoutSeconds", BODY_SECONDS))) {
      // stalls after 1000 of 100000 bytes: the idle deadline ends it
      try (RawHttp c = RawHttp.connect(server.port())) {
        c.sendHead("POST", "/api/v1/matte", Map.of("Content-Type", "image/png", "Content-Length", "100000"));
        c.send(new byte[1000]);
        long t0 = System.nanoTime();
        RawHttp.Response r = c.readResponse(Duration.ofSeconds(IDLE_SECONDS + 10));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(408, r.status(), r.text());
        assertEquals("request_timeout", code(r));
        assertTrue(ms < (IDLE_SECONDS + 2) * 1000L, "idle upload ended after " + ms + " ms");
        assertTrue(c.closedWithin(Duration.ofSeconds(5)), "and its connection closed");
      }
      // never idle, never done: a byte every 300 ms meets the whole-body deadline
      try (RawHttp c = RawHttp.connect(server.port())) {
        long t0 = System.nanoTime();
        c.sendHead("POST", "/api/v1/matte", Map.of("Content-Type", "image/png", "Content-Length", "100000"));
        RawHttp.Response r = null;
        while (r == null && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(BODY_SECONDS + 10)) {
          try {
            c.send(new byte[1]);
          } catch (IOException closed) {
            // the server ended it: its answer is waiting
          }
          r = c.available() > 0 ? c.readResponse(Duration.ofSeconds(5)) : null;
          Thread.sleep(300);
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(r != null, "the trickle was answered");
        assertEquals(408, r.status(), r.text());
        assertTrue(ms >= BODY_SECONDS * 1000L - 500 && ms < (BODY_SECONDS + 3) * 1000L, "trickle ended after " + ms + " ms");
      }
      assertEquals(0, metric(server.port(), "unimatte_inflight_bytes"), 0.0, "the budget is whole again");

      // 5 MB of dashes against a boundary of 7,799 dashes and an x: refused from the boundary alone
      String longBoundary = "-".repeat(7799) + "x";
      HttpResponse<byte[]> refused = timedPost(server, "multipart/form-data; boundary=" + longBoundary, dashes());
      assertEquals(400, refused.statusCode());
      assertEquals("invalid_multipart", MatteApiTest.error(refused).getString("code"));
      // the longest boundary allowed, same trap: the search is linear
      String boundary = "-".repeat(Multipart.MAX_BOUNDARY_LENGTH - 1) + "x";
      byte[] body = dashes();
      byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1);
      System.arraycopy(head, 0, body, 0, head.length);
      HttpResponse<byte[]> parsed = timedPost(server, "multipart/form-data; boundary=" + boundary, body);
      assertEquals(400, parsed.statusCode());
      assertEquals("invalid_multipart", MatteApiTest.error(parsed).getString("code"), "a truncated part");
    }
  }

  private static byte[] dashes() {
    byte[] b = new byte[5 * 1024 * 1024];
    Arrays.fill(b, (byte) '-');
    return b;
  }

  /** Posts and checks the answer came in under a second (the bound; it was 9.5–14.6 s). */
  private static HttpResponse<byte[]> timedPost(TestServer server, String type, byte[] body) throws Exception {
    long t0 = System.nanoTime();
    HttpResponse<byte[]> r = server.postRaw("/api/v1/matte", type, body);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    System.out.printf("multipart trap, boundary of %d characters: %d in %d ms%n",
        type.length() - "multipart/form-data; boundary=".length(), r.statusCode(), ms);
    assertTrue(ms < 1000, "answered in " + ms + " ms");
    return r;
  }

  @Test
  void fortyStalledUploadsMeetTheBudgetNotAnOutOfMemoryError() throws Exception {
    TinyModel.write(models, "tiny");
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    File log = File.createTempFile("unimatte-crowd", ".log");
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), HEAP,
        "-cp", System.getProperty("java.class.path"), "io.unimatte.Main")
        .redirectErrorStream(true).redirectOutput(log);
    pb.environment().put("PORT", Integer.toString(port));
    pb.environment().put("UNIMATTE_SERVER_HOST", "127.0.0.1");
    pb.environment().put("UNIMATTE_SERVER_IDLE_TIMEOUT_SECONDS", Integer.toString(CROWD_IDLE_SECONDS));
    pb.environment().put("UNIMATTE_MODELS_DIR", models.toString());
    pb.environment().put("UNIMATTE_MODELS_DEFAULT", "tiny");
    pb.environment().put("UNIMATTE_MODELS_SERVE", "[\"tiny\"]");
    pb.environment().put("UNIMATTE_MODELS_AUTO_IMPORT", "false");
    pb.environment().put("UNIMATTE_JOBS_OUTPUTS_DIR", outputs.toString());
    pb.environment().put("UNIMATTE_INFERENCE_WARMUP_RUNS", "1");
    Process server = pb.start();
    ExecutorService clients = Executors.newFixedThreadPool(STALLED);
    List<RawHttp> open = new ArrayList<>();
    try {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      waitReady(http, port, server);
      byte[] photo = photo();

      List<Future<Object>> crowd = new ArrayList<>();
      for (int i = 0; i < STALLED; i++) {
        crowd.add(clients.submit(() -> stall(port)));
      }
      int busy = 0;
      for (Future<Object> f : crowd) {
        Object outcome = f.get(120, TimeUnit.SECONDS);
        if (outcome instanceof RawHttp stalled) {
          open.add(stalled);
        } else {
          RawHttp.Response r = (RawHttp.Response) outcome;
          assertEquals(503, r.status(), r.text());
          assertEquals("server_busy", code(r));
          busy++;
        }
      }
      Map<String, Double> during = metrics(port);
      System.out.printf("crowd of %d: %d stalled uploads held, %d refused with server_busy; budget %.0f MB, "
              + "held %.0f MB, heap %.0f of %.0f MB%n", STALLED, open.size(), busy,
          during.get("unimatte_inflight_limit_bytes") / 1e6, during.get("unimatte_inflight_bytes") / 1e6,
          during.get("unimatte_heap_used_bytes") / 1e6, during.get("unimatte_heap_max_bytes") / 1e6);
      assertFalse(open.isEmpty(), "uploads that fit the budget are read");
      assertTrue(busy >= STALLED - 3, "the rest is refused at once: " + busy);

      HttpResponse<byte[]> normal = photoRequest(http, port, photo);
      assertEquals(200, normal.statusCode(), new String(normal.body()));

      // the idle deadline frees what the stalled uploads hold
      for (RawHttp c : open) {
        RawHttp.Response r = c.readResponse(Duration.ofSeconds(CROWD_IDLE_SECONDS + 30));
        assertEquals(408, r.status(), r.text());
      }
      long deadline = System.currentTimeMillis() + 10_000;
      while (metrics(port).get("unimatte_inflight_bytes") > 0) {
        assertTrue(System.currentTimeMillis() < deadline, "the budget is whole again");
        Thread.sleep(100);
      }
      assertEquals(200, photoRequest(http, port, photo).statusCode(), "and the server goes on serving");
      Map<String, Double> after = metrics(port);
      System.out.printf("after the crowd: heap %.0f of %.0f MB%n", after.get("unimatte_heap_used_bytes") / 1e6,
          after.get("unimatte_heap_max_bytes") / 1e6);
    } finally {
      for (RawHttp c : open) {
        c.close();
      }
      clients.shutdownNow();
      server.destroy();
      if (!server.waitFor(60, TimeUnit.SECONDS)) {
        server.destroyForcibly();
      }
    }
    String text = Files.readString(log.toPath());
    assertFalse(text.contains("OutOfMemoryError"), "no OutOfMemoryError in the server log");
    assertTrue(text.contains("event=server_busy"), "the refusals are logged");
  }

  /**
   * One hostile client: declares 52 MB, sends 49 MB and stalls. Returns the open connection, or the
   * answer when the server refused the upload before it was sent.
   */
  private static Object stall(int port) throws IOException {
    RawHttp c = RawHttp.connect(port);
    c.sendHead("POST", "/api/v1/matte", Map.of("Content-Type", "image/png", "Content-Length", Long.toString(DECLARED)));
    byte[] chunk = new byte[64 * 1024];
    long sent = 0;
    try {
      while (sent < SENT) {
        if (c.available() > 0) {
          break;
        }
        int n = (int) Math.min(chunk.length, SENT - sent);
        c.send(Arrays.copyOf(chunk, n));
        sent += n;
      }
    } catch (IOException closed) {
      // refused and closed: the answer is waiting
    }
    if (sent < SENT) {
      try (c) {
        return c.readResponse(Duration.ofSeconds(30));
      }
    }
    return c;
  }

  private static void waitReady(HttpClient http, int port, Process server) throws Exception {
    long deadline = System.currentTimeMillis() + 120_000;
    while (true) {
      try {
        HttpResponse<String> h = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
            .build(), HttpResponse.BodyHandlers.ofString());
        if (h.statusCode() == 200 && "ready".equals(new JsonObject(h.body()).getString("status"))) {
          return;
        }
      } catch (IOException notYet) {
        // still starting
      }
      assertTrue(System.currentTimeMillis() < deadline && server.isAlive(), "server did not start");
      Thread.sleep(200);
    }
  }

  /** A 2-megapixel JPEG photo stand-in: gradients and shapes, a few hundred kilobytes. */
  private static byte[] photo() throws Exception {
    BufferedImage img = new BufferedImage(1728, 1152, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    for (int y = 0; y < img.getHeight(); y += 8) {
      g.setColor(new Color(y % 256, (y / 3) % 256, 255 - y % 256));
      g.fillRect(0, y, img.getWidth(), 8);
    }
    g.setColor(Color.WHITE);
    g.fillOval(400, 200, 800, 700);
    g.dispose();
    return MatteApiTest.encode(img, "jpg");
  }

  private static HttpResponse<byte[]> photoRequest(HttpClient http, int port, byte[] photo) throws Exception {
    RawHttp.Form form = RawHttp.multipart("image", "photo.jpg", photo);
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/matte"))
        .header("Content-Type", form.contentType()).timeout(Duration.ofSeconds(60))
        .POST(HttpRequest.BodyPublishers.ofByteArray(form.body())).build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static Map<String, Double> metrics(int port) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
    Map<String, Double> out = new java.util.HashMap<>();
    Matcher m = METRIC.matcher(r.body());
    while (m.find()) {
      out.put(m.group(1), Double.parseDouble(m.group(2)));
    }
    return out;
  }

  private static double metric(int port, String name) throws Exception {
    return metrics(port).getOrDefault(name, Double.NaN);
  }

  private static String code(RawHttp.Response r) {
    return new JsonObject(r.text()).getJsonObject("error").getString("code");
  }
}
