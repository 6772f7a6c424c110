package io.unimatte.service;

import io.unimatte.UnimatteServer;
import io.unimatte.config.AppConfig;
import io.unimatte.inference.InferenceVerticle;
import io.unimatte.inference.MattingSession;
import io.unimatte.modelimport.ModelDescriptor;
import io.unimatte.testing.TestServer;
import io.unimatte.testing.TestSessions;
import io.unimatte.testing.TinyModel;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The queue and dynamic batching seen from outside: many concurrent uploads against a real
 * server whose session (the tiny TF model) is made slow enough for a queue to build up.
 */
class BatchingPipelineTest {
  private static final int IMAGES = 20;
  private static final List<String> STAGES = List.of("queued", "decoded", "inferring", "encoded", "done");

  @TempDir
  Path models;

  static byte[] png(int seed) throws Exception {
    BufferedImage img = new BufferedImage(64 + seed, 48, BufferedImage.TYPE_INT_RGB);
    for (int x = 0; x < img.getWidth() / 2; x++) {
      for (int y = 0; y < 48; y++) {
        img.setRGB(x, y, 0xFFFFFF);
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }

  @Test
  void concurrentUploadsFormBatchesAndEveryImageGetsOneResultWithOrderedProgress() throws Exception {
    Path dir = TinyModel.write(models, "tiny");
    CountDownLatch open = new CountDownLatch(0);
    try (TestServer server = TestServer.start(models, "tiny", TestSessions.slowTinyModel(dir, 150, open), cfg ->
        cfg.getJsonObject("inference").put("maxBatchSize", 4).put("maxBatchDelayMs", 50).put("maxQueueSize", 64))) {
      Map<String, List<String>> stagesByJob = new ConcurrentHashMap<>();
      List<JsonObject> inferring = new CopyOnWriteArrayList<>();
      server.vertx().eventBus().<JsonObject>consumer(InferenceVerticle.PROGRESS_ADDRESS, m -> {
        JsonObject e = m.body();
        stagesByJob.computeIfAbsent(e.getString("jobId"), k -> new CopyOnWriteArrayList<>()).add(e.getString("stage"));
        if ("inferring".equals(e.getString("stage"))) {
          inferring.add(e);
        }
      }).completion().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);

      ExecutorService clients = Executors.newFixedThreadPool(IMAGES);
      List<Future<HttpResponse<byte[]>>> responses = new ArrayList<>();
      for (int i = 0; i < IMAGES; i++) {
        byte[] data = png(i);
        responses.add(clients.submit(() -> server.postMultipart("/api/v1/matte", "image", "a.png", "image/png", data)));
      }
      List<String> jobIds = new ArrayList<>();
      for (int i = 0; i < IMAGES; i++) {
        HttpResponse<byte[]> r = responses.get(i).get(60, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode(), new String(r.body()));
        assertEquals(String.valueOf(64 + i), r.headers().firstValue("X-Width").orElseThrow(),
            "each client gets its own image back");
        jobIds.add(r.headers().firstValue("X-Job-Id").orElseThrow());
      }
      clients.shutdown();

      JsonObject health = new JsonObject(new String(server.get("/health").body()));
      assertEquals(IMAGES, health.getLong("completed"));
      assertEquals(IMAGES, health.getLong("submitted"));
      assertEquals(0, health.getLong("failed"));
      assertTrue(health.getInteger("maxBatchSeen") > 1, "batches larger than 1 were formed: " + health);
      assertTrue(health.getLong("batches") < IMAGES, "fewer session calls than images: " + health);
      JsonArray histogram = health.getJsonArray("batchSizeHistogram");
      long items = 0;
      for (int size = 1; size <= histogram.size(); size++) {
        items += size * histogram.getLong(size - 1);
      }
      assertEquals(IMAGES, items, "histogram accounts for every image exactly once");

      // progress: done is published just before the reply, give the bus a moment to deliver
      long deadline = System.currentTimeMillis() + 5_000;
      while (System.currentTimeMillis() < deadline
          && !jobIds.stream().allMatch(j -> stagesByJob.getOrDefault(j, List.of()).contains("done"))) {
        Thread.sleep(20);
      }
      for (String job : jobIds) {
        assertEquals(STAGES, stagesByJob.get(job), "progress of job " + job);
      }
      assertTrue(inferring.stream().anyMatch(e -> e.getInteger("batchSize", 0) > 1));
    }
  }

  @Test
  void fullQueueAnswers503WithRetryAfter() throws Exception {
    Path dir = TinyModel.write(models, "tiny");
    CountDownLatch gate = new CountDownLatch(1);
    try (TestServer server = TestServer.start(models, "tiny", TestSessions.slowTinyModel(dir, 0, gate), cfg ->
        cfg.getJsonObject("inference").put("maxBatchSize", 1).put("maxBatchDelayMs", 0).put("maxQueueSize", 2)
            .put("warmupRuns", 0))) {
      int n = 8;
      ExecutorService clients = Executors.newFixedThreadPool(n);
      List<Future<HttpResponse<byte[]>>> responses = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        byte[] data = png(i);
        responses.add(clients.submit(() -> server.postMultipart("/api/v1/matte", "image", "a.png", "image/png", data)));
      }
      // the session is closed until some requests have been refused
      int refused = 0;
      List<HttpResponse<byte[]>> done = new ArrayList<>();
      long deadline = System.currentTimeMillis() + 30_000;
      while (refused == 0 && System.currentTimeMillis() < deadline) {
        refused = (int) responses.stream().filter(Future::isDone).count();
        Thread.sleep(20);
      }
      gate.countDown();
      int ok = 0;
      int busy = 0;
      for (Future<HttpResponse<byte[]>> f : responses) {
        HttpResponse<byte[]> r = f.get(60, TimeUnit.SECONDS);
        done.add(r);
        if (r.statusCode() == 200) {
          ok++;
        } else {
          assertEquals(503, r.statusCode(), new String(r.body()));
          assertTrue(Long.parseLong(r.headers().firstValue("Retry-After").orElseThrow()) >= 1);
          assertEquals("queue_full", new JsonObject(new String(r.body())).getJsonObject("error").getString("code"));
          busy++;
        }
      }
      clients.shutdown();
      assertTrue(busy > 0, "some requests were refused");
      assertTrue(ok >= 2, "the queued ones were served");
      assertEquals(n, ok + busy, "every request got exactly one answer");
      JsonObject health = new JsonObject(new String(server.get("/health").body()));
      assertEquals(busy, health.getLong("rejected"));
    }
  }
}
