package io.unimatte.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unimatte.testing.Multiparts;
import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The confidence score and review flag as users see them. The tiny model makes bright pixels
 * foreground and dark ones background, so a white photo is a sure subject and a mid-grey one is a
 * matte the model is unsure about everywhere (no subject found).
 */
class ConfidenceApiTest {
  @TempDir
  static Path models;
  private static TestServer server;
  private static byte[] sure;
  private static byte[] doubtful;

  @BeforeAll
  static void start() throws Exception {
    TinyModel.write(models, "tiny");
    server = TestServer.start(models, "tiny", null, cfg -> { });
    sure = flat(Color.WHITE);
    doubtful = flat(new Color(128, 128, 128));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static byte[] flat(Color c) throws Exception {
    BufferedImage img = new BufferedImage(48, 36, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(c);
    g.fillRect(0, 0, 48, 36);
    g.dispose();
    return MatteApiTest.encode(img, "png");
  }

  @Test
  void uploadsCarryTheScoreAndTheFlag() throws Exception {
    HttpResponse<byte[]> good = server.postMultipart("/api/v1/matte", "image", "a.png", "image/png", sure);
    assertEquals("1.000", good.headers().firstValue("X-Matte-Confidence").orElseThrow());
    assertEquals("false", good.headers().firstValue("X-Matte-Review").orElseThrow());
    HttpResponse<byte[]> bad = server.postMultipart("/v1.0/removebg", "image_file", "b.png", "image/png", doubtful);
    assertEquals(200, bad.statusCode(), new String(bad.body()));
    assertEquals("0.000", bad.headers().firstValue("X-Matte-Confidence").orElseThrow());
    assertEquals("true", bad.headers().firstValue("X-Matte-Review").orElseThrow());
    HttpResponse<byte[]> again = server.postMultipart("/v1.0/removebg", "image_file", "b.png", "image/png", doubtful);
    assertEquals("hit", again.headers().firstValue("X-Cache").orElseThrow());
    assertEquals("true", again.headers().firstValue("X-Matte-Review").orElseThrow(), "the cache keeps the flag");
    String metrics = new String(server.get("/metrics").body());
    assertTrue(metrics.contains("unimatte_matte_confidence_bucket{le=\"0.1\"}"), metrics);
    assertTrue(metrics.lines().anyMatch(l -> l.startsWith("unimatte_matte_review_total ")
        && Double.parseDouble(l.substring(l.indexOf(' ') + 1)) >= 1), "a flagged matte is counted");
  }

  @Test
  void jobsListFlagAndFileTheDoubtfulOnes() throws Exception {
    String id = postJob(List.of(sure, doubtful));
    JsonObject job = waitDone(id);
    JsonArray items = job.getJsonArray("items");
    assertFalse(items.getJsonObject(0).getBoolean("review"), items.encode());
    assertEquals(1.0, items.getJsonObject(0).getDouble("confidence"));
    assertTrue(items.getJsonObject(1).getBoolean("review"), items.encode());
    assertEquals(0.0, items.getJsonObject(1).getDouble("confidence"));

    JsonArray flagged = new JsonObject(new String(server.get("/api/v1/jobs/" + id + "?review=true").body()))
        .getJsonArray("items");
    assertEquals(1, flagged.size(), flagged.encode());
    assertEquals("img1.png", flagged.getJsonObject(0).getString("name"));

    List<String> entries = new ArrayList<>();
    try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(
        server.get("/api/v1/jobs/" + id + "/archive").body()))) {
      for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
        entries.add(e.getName());
      }
    }
    assertTrue(entries.contains("img0.png"), entries.toString());
    assertTrue(entries.contains("review/img1.png"), entries.toString());
    assertTrue(entries.contains("img1.png"), "every result stays at the top too: " + entries);
    assertFalse(entries.contains("review/img0.png"), entries.toString());
  }

  private static String postJob(List<byte[]> images) throws Exception {
    Multiparts.Body body = Multiparts.images(images);
    HttpResponse<byte[]> created = HttpClient.newHttpClient().send(HttpRequest.newBuilder(server.uri("/api/v1/jobs"))
            .header("Content-Type", body.contentType())
            .POST(HttpRequest.BodyPublishers.ofByteArray(body.bytes())).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(202, created.statusCode(), new String(created.body()));
    return new JsonObject(new String(created.body())).getString("id");
  }

  private static JsonObject waitDone(String id) throws Exception {
    long deadline = System.currentTimeMillis() + 30_000;
    while (System.currentTimeMillis() < deadline) {
      JsonObject job = new JsonObject(new String(server.get("/api/v1/jobs/" + id).body()));
      if ("done".equals(job.getString("status"))) {
        return job;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("job " + id + " did not finish");
  }
}
