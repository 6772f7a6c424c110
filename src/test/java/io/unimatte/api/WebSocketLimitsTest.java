package io.unimatte.api;

import io.unimatte.testing.RawHttp;
import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import io.unimatte.testing.WsClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The WebSocket under memory pressure: a message holds its size of the in-flight budget (refused with
 * {@code server_busy} when it does not fit), and a client that stops reading is sent nothing more than
 * the socket takes, then everything, in order, once it reads again.
 */
class WebSocketLimitsTest {
  private static final long BUDGET = 2_000_000;
  @TempDir
  Path models;

  private static JsonObject submit(String ref, byte[]... images) {
    JsonArray list = new JsonArray();
    for (int i = 0; i < images.length; i++) {
      list.add(new JsonObject().put("name", "img" + i + ".png").put("data", Base64.getEncoder().encodeToString(images[i])));
    }
    return new JsonObject().put("type", "submit").put("ref", ref).put("images", list);
  }

  /** A PNG of noise: it does not compress, so its cutout is as large as it. */
  private static byte[] noise(int w, int h, long seed) throws Exception {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Random r = new Random(seed);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, r.nextInt(0x1000000));
      }
    }
    return MatteApiTest.encode(img, "png");
  }

  /** The answer to a submit (accepted or error), past the events of jobs accepted before. */
  private static JsonObject answer(WsClient ws) throws Exception {
    while (true) {
      JsonObject m = ws.next();
      if (Set.of("accepted", "error").contains(m.getString("type"))) {
        return m;
      }
    }
  }

  /** Waits until the in-flight budget holds exactly {@code bytes} (from /metrics). */
  private static void awaitHeld(TestServer server, long bytes) throws Exception {
    long deadline = System.currentTimeMillis() + 10_000;
    while (true) {
      String metrics = new String(server.get("/metrics").body());
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^unimatte_inflight_bytes (\\d+)(?:\\.0)?$").matcher(metrics);
      if (m.find() && Long.parseLong(m.group(1)) == bytes) {
        return;
      }
      assertTrue(System.currentTimeMillis() < deadline, "in-flight bytes reached " + bytes + ": " + metrics);
      Thread.sleep(50);
    }
  }

  @Test
  void messagesHoldTheirSizeOfTheBudget() throws Exception {
    TinyModel.write(models, "tiny");
    try (TestServer server = TestServer.start(models, "tiny", null,
        cfg -> cfg.getJsonObject("server").put("maxInFlightBytes", BUDGET))) {
      WsClient ws = WsClient.connect(server);
      ws.send(submit("huge", noise(1000, 800, 1)));
      JsonObject huge = ws.next();
      assertEquals("error", huge.getString("type"), huge.encode());
      assertEquals("payload_too_large", huge.getString("code"), "larger than the whole budget: never");

      byte[] small = MatteApiTestAccess.png(40);
      try (RawHttp stalled = RawHttp.connect(server.port())) {
        stalled.sendHead("POST", "/api/v1/matte", Map.of("Content-Type", "image/png", "Content-Length", "1900000"));
        stalled.send(new byte[100]);
        awaitHeld(server, 1_900_000);
        ws.send(submit("busy", noise(300, 200, 2)));
        JsonObject busy = answer(ws);
        assertEquals("error", busy.getString("type"), busy.encode());
        assertEquals("server_busy", busy.getString("code"), "refused while a stalled upload holds the budget");
      }
      // once the stalled client is gone its share comes back
      awaitHeld(server, 0);
      ws.send(submit("again", small));
      JsonObject accepted = answer(ws);
      assertEquals("accepted", accepted.getString("type"), accepted.encode());
      assertEquals("again", accepted.getString("ref"));
      ws.ws.sendClose(java.net.http.WebSocket.NORMAL_CLOSURE, "bye").join();
    }
  }

  @Test
  void aClientThatStopsReadingGetsEverythingInOrderWhenItReadsAgain() throws Exception {
    TinyModel.write(models, "tiny");
    int images = 8;
    try (TestServer server = TestServer.start(models, "tiny", null, cfg -> { })) {
      byte[][] data = new byte[images][];
      for (int i = 0; i < images; i++) {
        data[i] = noise(1000, 750, 10 + i);
      }
      WsClient ws = WsClient.connect(server);
      ws.send(submit("slow", data));
      JsonObject accepted = ws.next(120);
      assertEquals("accepted", accepted.getString("type"), accepted.encode());
      String id = accepted.getJsonObject("job").getString("id");
      // tens of megabytes of results wait while the client reads nothing
      ws.hold();
      long deadline = System.currentTimeMillis() + 120_000;
      while (true) {
        JsonObject job = new JsonObject(new String(server.get("/api/v1/jobs/" + id).body()));
        if (job.getInteger("done") + job.getInteger("failed") == images) {
          assertEquals(images, (int) job.getInteger("done"));
          break;
        }
        assertTrue(System.currentTimeMillis() < deadline, "the job finished meanwhile");
        Thread.sleep(100);
      }
      Thread.sleep(500);
      ws.release();
      Set<Integer> results = new TreeSet<>();
      long bytes = 0;
      while (true) {
        JsonObject m = ws.next(60);
        assertTrue(!"error".equals(m.getString("type")), m.encode());
        if ("result".equals(m.getString("type"))) {
          assertTrue(results.add(m.getInteger("index")), "each result once");
          bytes += m.getString("data").length();
        }
        if ("job_done".equals(m.getString("type"))) {
          break;
        }
      }
      assertEquals(images, results.size(), "every result before job_done: " + results);
      System.out.printf("slow reader: %d results, %.1f MB of base64, delivered after the pause%n", images, bytes / 1e6);
      ws.ws.sendClose(java.net.http.WebSocket.NORMAL_CLOSURE, "bye").join();
    }
  }
}
