package io.unimatte.api;

import io.unimatte.testing.TestServer;
import io.unimatte.testing.TestSessions;
import io.unimatte.testing.TinyModel;
import io.unimatte.testing.WsClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Batch jobs over HTTP and WebSocket, on a real server with the tiny model. */
class JobsApiTest {
  @TempDir
  Path models;
  @TempDir
  Path outputs;

  private static HttpResponse<byte[]> postJob(TestServer server, List<byte[]> images, String query) throws Exception {
    String boundary = "b" + UUID.randomUUID();
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (int i = 0; i < images.size(); i++) {
      body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"img" + i
          + ".png\"\r\nContent-Type: image/png\r\n\r\n").getBytes());
      body.writeBytes(images.get(i));
      body.writeBytes("\r\n".getBytes());
    }
    body.writeBytes(("--" + boundary + "--\r\n").getBytes());
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(server.uri("/api/v1/jobs" + query))
            .header("Content-Type", "multipart/form-data; boundary=" + boundary)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  private static byte[] png(int w) throws Exception {
    return MatteApiTest.encode(new java.awt.image.BufferedImage(w, 20, java.awt.image.BufferedImage.TYPE_INT_RGB), "png");
  }

  @Test
  void fiveImageJobFollowedOverWebSocketFromQueuedToDoneThenArchived() throws Exception {
    Path dir = TinyModel.write(models, "tiny");
    CountDownLatch gate = new CountDownLatch(1);
    // one image in flight at a time, so the others are visibly queued when the socket subscribes
    try (TestServer server = TestServer.start(models, "tiny", TestSessions.slowTinyModel(dir, 0, gate), cfg -> {
      cfg.getJsonObject("jobs").put("outputsDir", outputs.toString()).put("maxInFlight", 1);
      cfg.getJsonObject("inference").put("maxBatchSize", 1).put("warmupRuns", 0);
    })) {
      List<byte[]> images = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        images.add(png(30 + i));
      }
      HttpResponse<byte[]> created = postJob(server, images, "?matte=true");
      assertEquals(202, created.statusCode(), new String(created.body()));
      JsonObject job = new JsonObject(new String(created.body()));
      String id = job.getString("id");
      assertEquals("/api/v1/jobs/" + id, created.headers().firstValue("Location").orElseThrow());
      assertEquals(5, job.getJsonArray("items").size());

      WsClient ws = WsClient.connect(server);
      ws.send(new JsonObject().put("type", "subscribe").put("jobId", id).put("ref", "r1"));
      JsonObject sub = ws.next();
      assertEquals("subscribed", sub.getString("type"));
      Map<Integer, List<String>> stages = new HashMap<>();
      for (Object o : sub.getJsonObject("job").getJsonArray("items")) {
        JsonObject item = (JsonObject) o;
        assertTrue(List.of("queued", "decoded", "inferring").contains(item.getString("stage")), "not done: " + item);
        stages.computeIfAbsent(item.getInteger("index"), k -> new ArrayList<>()).add(item.getString("stage"));
      }
      HttpResponse<byte[]> early = server.get("/api/v1/jobs/" + id + "/items/0");
      assertEquals(409, early.statusCode());
      assertEquals("item_not_ready", MatteApiTest.error(early).getString("code"));

      gate.countDown();
      JsonObject m;
      do {
        m = ws.next();
        if ("progress".equals(m.getString("type"))) {
          stages.get(m.getInteger("index")).add(m.getString("stage"));
        }
      } while (!"job_done".equals(m.getString("type")));
      assertEquals("done", m.getString("status"));
      assertEquals(5, m.getInteger("done"));
      List<String> order = List.of("queued", "decoded", "inferring", "encoded", "done");
      for (int i = 0; i < 5; i++) {
        List<String> s = stages.get(i);
        // from the snapshot's stage on, every later stage arrives once, in order
        assertEquals(order.subList(order.indexOf(s.get(0)), order.size()), s, "item " + i);
      }
      assertTrue(stages.values().stream().filter(s -> s.get(0).equals("queued")).count() >= 3,
          "most items were still queued when the socket subscribed: " + stages);
      ws.ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();

      JsonObject status = new JsonObject(new String(server.get("/api/v1/jobs/" + id).body()));
      assertEquals("done", status.getString("status"));
      HttpResponse<byte[]> item3 = server.get("/api/v1/jobs/" + id + "/items/3");
      assertEquals(200, item3.statusCode());
      assertEquals(33, ImageIO.read(new ByteArrayInputStream(item3.body())).getWidth());

      HttpResponse<byte[]> zip = server.get("/api/v1/jobs/" + id + "/archive");
      assertEquals(200, zip.statusCode());
      assertEquals("application/zip", zip.headers().firstValue("Content-Type").orElseThrow());
      List<String> names = new ArrayList<>();
      try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip.body()))) {
        ZipEntry e;
        while ((e = in.getNextEntry()) != null) {
          names.add(e.getName());
          if (e.getName().endsWith(".png")) {
            assertNotNull(ImageIO.read(new ByteArrayInputStream(in.readAllBytes())), e.getName());
          }
        }
      }
      assertTrue(names.containsAll(List.of("img0.png", "img4.png", "alpha/img0.png", "alpha/img4.png", "job.json")),
          names.toString());
    }

    // a restart on the same outputs folder keeps the history and the results
    try (TestServer again = TestServer.start(models, "tiny", null,
        cfg -> cfg.getJsonObject("jobs").put("outputsDir", outputs.toString()))) {
      JsonArray history = new JsonObject(new String(again.get("/api/v1/jobs").body())).getJsonArray("jobs");
      assertEquals(1, history.size());
      String id = history.getJsonObject(0).getString("id");
      assertEquals(5, history.getJsonObject(0).getInteger("done"));
      assertEquals(200, again.get("/api/v1/jobs/" + id + "/items/4").statusCode());
      assertEquals(204, HttpClient.newHttpClient().send(HttpRequest.newBuilder(again.uri("/api/v1/jobs/" + id))
          .DELETE().build(), HttpResponse.BodyHandlers.ofByteArray()).statusCode());
      assertEquals(404, again.get("/api/v1/jobs/" + id).statusCode());
    }
  }

  @Test
  void submitOverWebSocketGetsResultsOnTheSameSocket() throws Exception {
    TinyModel.write(models, "tiny");
    try (TestServer server = TestServer.start(models, "tiny", null, cfg -> { })) {
      WsClient ws = WsClient.connect(server);
      JsonArray imgs = new JsonArray();
      for (int i = 0; i < 2; i++) {
        imgs.add(new JsonObject().put("name", "p" + i + ".png").put("data", Base64.getEncoder().encodeToString(png(40 + i))));
      }
      imgs.add(new JsonObject().put("name", "bad.png").put("data", Base64.getEncoder().encodeToString("nope".getBytes())));
      ws.send(new JsonObject().put("type", "submit").put("ref", "x").put("output", "alpha").put("images", imgs));
      JsonObject accepted = ws.next();
      assertEquals("accepted", accepted.getString("type"));
      assertEquals("x", accepted.getString("ref"));
      Map<Integer, JsonObject> results = new HashMap<>();
      JsonObject failedItem = null;
      JsonObject m;
      do {
        m = ws.next();
        if ("result".equals(m.getString("type"))) {
          results.put(m.getInteger("index"), m);
        } else if ("item".equals(m.getString("type")) && "failed".equals(m.getJsonObject("item").getString("stage"))) {
          failedItem = m.getJsonObject("item");
        }
      } while (!"job_done".equals(m.getString("type")));
      assertEquals("partial", m.getString("status"));
      assertEquals(2, results.size());
      byte[] bytes = Base64.getDecoder().decode(results.get(1).getString("data"));
      assertEquals(41, ImageIO.read(new ByteArrayInputStream(bytes)).getWidth());
      assertNotNull(failedItem);
      assertEquals("unsupported_format", failedItem.getString("code"));

      ws.send(new JsonObject().put("type", "nonsense"));
      assertEquals("unknown_type", ws.next().getString("code"));
      ws.ws.sendText("{not json", true).join();
      assertEquals("invalid_json", ws.next().getString("code"));
      ws.send(new JsonObject().put("type", "submit").put("images", new JsonArray().add(new JsonObject().put("data", "%%%"))));
      assertEquals("invalid_base64", ws.next().getString("code"));
      ws.ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
    }
  }

  @Test
  void jobsTakeTheSameOutputOptions() throws Exception {
    TinyModel.write(models, "tiny");
    try (TestServer server = TestServer.start(models, "tiny", null, cfg -> { })) {
      HttpResponse<byte[]> created = postJob(server, List.of(png(200)), "?format=jpg&size=100x100&bg=00ff00");
      assertEquals(202, created.statusCode(), new String(created.body()));
      String id = new JsonObject(new String(created.body())).getString("id");
      HttpResponse<byte[]> item = null;
      for (int i = 0; i < 100; i++) {
        item = server.get("/api/v1/jobs/" + id + "/items/0");
        if (item.statusCode() != 409) {
          break;
        }
        Thread.sleep(50);
      }
      assertEquals(200, item.statusCode(), new String(item.body()));
      assertEquals("image/jpeg", item.headers().firstValue("Content-Type").orElseThrow());
      assertEquals(100, ImageIO.read(new ByteArrayInputStream(item.body())).getWidth());
      assertEquals(400, postJob(server, List.of(png(20)), "?format=gif").statusCode());

      WsClient ws = WsClient.connect(server);
      ws.send(new JsonObject().put("type", "submit").put("format", "jpg").put("images", new JsonArray()
          .add(new JsonObject().put("name", "a.png").put("data", Base64.getEncoder().encodeToString(png(30))))));
      JsonObject m;
      do {
        m = ws.next();
      } while (!"result".equals(m.getString("type")));
      assertEquals("image/jpeg", m.getString("contentType"));
      // the quality switches are read on the WebSocket too: a bad value is refused there
      ws.send(new JsonObject().put("type", "submit").put("refine", "maybe").put("images", new JsonArray()
          .add(new JsonObject().put("name", "a.png").put("data", Base64.getEncoder().encodeToString(png(30))))));
      do {
        m = ws.next();
      } while (!"error".equals(m.getString("type")));
      assertEquals("invalid_parameter", m.getString("code"));
      ws.ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
    }
  }

  @Test
  void runningJobsPerClientAreLimited() throws Exception {
    Path dir = TinyModel.write(models, "tiny");
    CountDownLatch gate = new CountDownLatch(1);
    try (TestServer server = TestServer.start(models, "tiny", TestSessions.slowTinyModel(dir, 0, gate), cfg -> {
      cfg.getJsonObject("jobs").put("maxConcurrentJobsPerClient", 1);
      cfg.getJsonObject("inference").put("warmupRuns", 0);
    })) {
      assertEquals(202, postJob(server, List.of(png(20)), "").statusCode());
      HttpResponse<byte[]> second = postJob(server, List.of(png(21)), "");
      assertEquals(429, second.statusCode(), new String(second.body()));
      assertEquals("too_many_jobs", MatteApiTest.error(second).getString("code"));
      gate.countDown();
      long deadline = System.currentTimeMillis() + 30_000;
      int status = 0;
      while (System.currentTimeMillis() < deadline && (status = postJob(server, List.of(png(22)), "").statusCode()) == 429) {
        Thread.sleep(50);
      }
      assertEquals(202, status, "accepted again once the first job finished");
    }
  }

  @Test
  void zipUploadsAreUnpackedSafely() throws Exception {
    TinyModel.write(models, "tiny");
    try (TestServer server = TestServer.start(models, "tiny", null, cfg -> { })) {
      ByteArrayOutputStream good = new ByteArrayOutputStream();
      try (ZipOutputStream z = new ZipOutputStream(good)) {
        for (String name : List.of("a/one.png", "two.png", "readme.txt")) {
          z.putNextEntry(new ZipEntry(name));
          z.write(name.endsWith(".png") ? png(25) : "hi".getBytes());
          z.closeEntry();
        }
      }
      HttpResponse<byte[]> r = server.postMultipart("/api/v1/jobs", "image", "photos.zip", "application/zip",
          good.toByteArray());
      assertEquals(202, r.statusCode(), new String(r.body()));
      JsonArray items = new JsonObject(new String(r.body())).getJsonArray("items");
      assertEquals(2, items.size());
      assertEquals("one.png", items.getJsonObject(0).getString("name"));

      for (String evil : List.of("../evil.png", "/etc/evil.png")) {
        ByteArrayOutputStream bad = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bad)) {
          z.putNextEntry(new ZipEntry(evil));
          z.write(png(10));
          z.closeEntry();
        }
        r = server.postMultipart("/api/v1/jobs", "image", "bad.zip", "application/zip", bad.toByteArray());
        assertEquals(400, r.statusCode(), evil);
        assertEquals("zip_unsafe_path", MatteApiTest.error(r).getString("code"));
      }
      assertEquals(404, server.get("/api/v1/jobs/" + UUID.randomUUID()).statusCode());
      assertEquals("job_not_found", MatteApiTest.error(server.get("/api/v1/jobs/not-a-job")).getString("code"));
    }
  }
}
