package io.unimatte.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unimatte.testing.Multiparts;
import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import io.unimatte.testing.WsClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every way in goes through the one cached pipeline: a repeated image is answered from the result
 * cache on /api/v1/matte, remove.bg, batch jobs and the WebSocket, and says so.
 */
class CacheEverywhereTest {
  @TempDir
  static Path models;
  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    TinyModel.write(models, "tiny");
    server = TestServer.start(models, "tiny", null, cfg -> { });
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  /** A small image no other test in this class sends, so the first request is a miss. */
  private static byte[] image(int width) throws Exception {
    return MatteApiTest.encode(new java.awt.image.BufferedImage(width, 30, java.awt.image.BufferedImage.TYPE_INT_RGB),
        "png");
  }

  private static HttpResponse<byte[]> removeBg(byte[] png) throws Exception {
    return server.postMultipart("/v1.0/removebg?size=full", "image_file", "a.png", "image/png", png);
  }

  @Test
  void removeBgAnswersARepeatFromTheCache() throws Exception {
    byte[] png = image(61);
    HttpResponse<byte[]> first = removeBg(png);
    HttpResponse<byte[]> second = removeBg(png);
    assertEquals(200, first.statusCode(), new String(first.body()));
    assertEquals("miss", first.headers().firstValue("X-Cache").orElseThrow());
    assertEquals("hit", second.headers().firstValue("X-Cache").orElseThrow());
    assertArrayEquals(first.body(), second.body());
  }

  @Test
  void anUploadAndAJobShareTheCache() throws Exception {
    byte[] png = image(62);
    HttpResponse<byte[]> upload = server.postMultipart("/api/v1/matte", "image", "a.png", "image/png", png);
    assertEquals("miss", upload.headers().firstValue("X-Cache").orElseThrow());
    JsonObject item = runJob(png);
    assertTrue(item.getBoolean("cached"), item.encode());
    HttpResponse<byte[]> result = server.get(item.getString("url"));
    assertArrayEquals(upload.body(), result.body());
  }

  @Test
  void aRepeatedJobImageIsACacheHit() throws Exception {
    byte[] png = image(63);
    JsonObject first = runJob(png);
    JsonObject second = runJob(png);
    assertFalse(first.getBoolean("cached"), first.encode());
    assertTrue(second.getBoolean("cached"), second.encode());
  }

  @Test
  void aRepeatedWebSocketSubmitIsACacheHit() throws Exception {
    String data = Base64.getEncoder().encodeToString(image(64));
    WsClient ws = WsClient.connect(server);
    assertFalse(submitOverWebSocket(ws, data).getBoolean("cached"));
    assertTrue(submitOverWebSocket(ws, data).getBoolean("cached"));
  }

  /** Submits one image and returns its {@code result} message. */
  private static JsonObject submitOverWebSocket(WsClient ws, String data) throws Exception {
    ws.send(new JsonObject().put("type", "submit").put("images",
        new JsonArray().add(new JsonObject().put("name", "a.png").put("data", data))));
    JsonObject result = null;
    List<String> seen = new ArrayList<>();
    JsonObject m;
    do {
      m = ws.next();
      seen.add(m.encode());
      if ("result".equals(m.getString("type"))) {
        result = m;
      }
    } while (!"job_done".equals(m.getString("type")));
    assertEquals("done", m.getString("status"), m.encode());
    assertNotNull(result, "no result message among " + seen);
    return result;
  }

  /** Posts a one-image job, waits for it, and returns its item. */
  private static JsonObject runJob(byte[] png) throws Exception {
    Multiparts.Body body = Multiparts.images(List.of(png));
    HttpResponse<byte[]> created = HttpClient.newHttpClient().send(HttpRequest.newBuilder(server.uri("/api/v1/jobs"))
            .header("Content-Type", body.contentType())
            .POST(HttpRequest.BodyPublishers.ofByteArray(body.bytes())).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(202, created.statusCode(), new String(created.body()));
    String id = new JsonObject(new String(created.body())).getString("id");
    long deadline = System.currentTimeMillis() + 30_000;
    while (System.currentTimeMillis() < deadline) {
      JsonObject job = new JsonObject(new String(server.get("/api/v1/jobs/" + id).body()));
      if ("done".equals(job.getString("status"))) {
        return job.getJsonArray("items").getJsonObject(0);
      }
      Thread.sleep(50);
    }
    throw new AssertionError("job " + id + " did not finish");
  }
}
