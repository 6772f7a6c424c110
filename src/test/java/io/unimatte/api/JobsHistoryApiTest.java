package io.unimatte.api;

import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The history as the page reads it: single cutouts recorded as jobs, pages newest first, the review filter. */
class JobsHistoryApiTest {
  @TempDir
  Path models;

  private static byte[] flat(Color c, int w) throws Exception {
    BufferedImage img = new BufferedImage(w, 24, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(c);
    g.fillRect(0, 0, w, 24);
    g.dispose();
    return MatteApiTest.encode(img, "png");
  }

  private static JsonObject json(HttpResponse<byte[]> r) {
    return new JsonObject(new String(r.body()));
  }

  @Test
  void pageSinglesAreRecordedAsOneImageJobsAndApiSinglesOnlyWhenConfigured() throws Exception {
    TinyModel.write(models, "tiny");
    try (TestServer server = TestServer.start(models, "tiny", null, cfg -> { })) {
      byte[] white = flat(Color.WHITE, 40);
      HttpResponse<byte[]> recorded = server.postMultipart("/api/v1/matte?record=true", "image", "my photo.png",
          "image/png", white);
      assertEquals(200, recorded.statusCode(), new String(recorded.body()));
      String id = recorded.headers().firstValue("X-Job-Id").orElseThrow();
      JsonObject job = json(server.get("/api/v1/jobs/" + id));
      assertEquals("done", job.getString("status"));
      assertEquals("single", job.getString("source"));
      assertEquals("tiny", job.getString("model"));
      JsonObject item = job.getJsonArray("items").getJsonObject(0);
      assertEquals("my photo.png", item.getString("name"));
      assertEquals(1.0, item.getDouble("confidence"), 1e-9);
      HttpResponse<byte[]> result = server.get("/api/v1/jobs/" + id + "/items/0");
      assertEquals(200, result.statusCode());
      assertArrayEquals(recorded.body(), result.body(), "the stored result is the cutout that was answered");

      HttpResponse<byte[]> plain = server.postMultipart("/api/v1/matte", "image", "api.png", "image/png", flat(Color.WHITE, 41));
      assertEquals(200, plain.statusCode());
      assertEquals(404, server.get("/api/v1/jobs/" + plain.headers().firstValue("X-Job-Id").orElseThrow()).statusCode(),
          "API singles are not recorded by default");
      HttpResponse<byte[]> bad = server.postMultipart("/api/v1/matte?record=maybe", "image", "a.png", "image/png", white);
      assertEquals(400, bad.statusCode());
      assertEquals("invalid_parameter", MatteApiTest.error(bad).getString("code"));
      assertEquals(1, json(server.get("/api/v1/jobs")).getInteger("total"));
    }
    try (TestServer server = TestServer.start(models, "tiny", null,
        cfg -> cfg.getJsonObject("jobs").put("recordSingles", true))) {
      HttpResponse<byte[]> r = server.postRaw("/api/v1/matte", "image/png", flat(Color.WHITE, 42));
      String id = r.headers().firstValue("X-Job-Id").orElseThrow();
      JsonObject job = json(server.get("/api/v1/jobs/" + id));
      assertEquals("image", job.getJsonArray("items").getJsonObject(0).getString("name"), "no file name: a plain one");
      HttpResponse<byte[]> notKept = server.postMultipart("/api/v1/matte?record=false", "image", "b.png", "image/png",
          flat(Color.WHITE, 43));
      assertEquals(404, server.get("/api/v1/jobs/" + notKept.headers().firstValue("X-Job-Id").orElseThrow()).statusCode());
    }
  }

  @Test
  void historyComesInPagesNewestFirstAndFiltersDoubtfulJobs() throws Exception {
    TinyModel.write(models, "tiny");
    try (TestServer server = TestServer.start(models, "tiny", null, cfg -> { })) {
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        // mid-grey: the tiny model finds no subject, the cutout is flagged for review
        Color c = i % 2 == 0 ? Color.WHITE : new Color(128, 128, 128);
        HttpResponse<byte[]> r = server.postMultipart("/api/v1/matte?record=true", "image", "p" + i + ".png", "image/png",
            flat(c, 30 + i));
        ids.add(0, r.headers().firstValue("X-Job-Id").orElseThrow());
      }
      JsonObject first = json(server.get("/api/v1/jobs?limit=2"));
      assertEquals(5, first.getInteger("total"));
      assertEquals(2, first.getInteger("limit"));
      JsonArray jobs = first.getJsonArray("jobs");
      assertEquals(List.of(ids.get(0), ids.get(1)), List.of(jobs.getJsonObject(0).getString("id"),
          jobs.getJsonObject(1).getString("id")));
      assertEquals("/api/v1/jobs?limit=2&offset=2", first.getString("next"));
      JsonObject summary = jobs.getJsonObject(0);
      assertEquals(new JsonArray().add("p4.png"), summary.getJsonArray("names"));
      assertEquals("tiny", summary.getString("model"));
      assertEquals("/api/v1/jobs/" + ids.get(0) + "/items/0", summary.getString("thumb"));
      assertFalse(summary.getBoolean("cancelled"));

      JsonObject last = json(server.get(first.getString("next").replace("offset=2", "offset=4")));
      assertEquals(1, last.getJsonArray("jobs").size());
      assertEquals(ids.get(4), last.getJsonArray("jobs").getJsonObject(0).getString("id"));
      assertNull(last.getString("next"));

      JsonObject doubtful = json(server.get("/api/v1/jobs?review=true"));
      assertEquals(2, doubtful.getInteger("total"));
      for (Object o : doubtful.getJsonArray("jobs")) {
        assertEquals(1, ((JsonObject) o).getInteger("flagged"));
      }
      JsonObject flaggedJob = json(server.get("/api/v1/jobs/" + ids.get(1) + "?review=true"));
      assertEquals(1, flaggedJob.getJsonArray("items").size());
      assertTrue(flaggedJob.getJsonArray("items").getJsonObject(0).getBoolean("review"));

      for (String bad : Arrays.asList("limit=0", "limit=1000", "offset=-1", "limit=two")) {
        HttpResponse<byte[]> r = server.get("/api/v1/jobs?" + bad);
        assertEquals(400, r.statusCode(), bad);
        assertEquals("invalid_parameter", MatteApiTest.error(r).getString("code"));
      }
    }
  }
}
