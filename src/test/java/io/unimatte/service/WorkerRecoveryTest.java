package io.unimatte.service;

import io.unimatte.api.MatteApiTestAccess;
import io.unimatte.config.AppConfig;
import io.unimatte.inference.MattingSession;
import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import io.unimatte.testing.WrappedSession;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A session that keeps failing is replaced; a batch too large for memory is split, not lost. */
class WorkerRecoveryTest {
  @TempDir
  Path models;

  private Supplier<MattingSession> tiny() throws Exception {
    TinyModel.write(models, "tiny");
    AppConfig cfg = AppConfig.of(new JsonObject().put("models", new JsonObject().put("dir", models.toString())
        .put("default", "tiny")).put("inference", new JsonObject().put("intraOpThreads", 1).put("interOpThreads", 1)
        .put("bf16", "off")));
    return io.unimatte.testing.TestSessions.defaultModel(cfg);
  }

  @Test
  void aWorkerWhoseSessionKeepsFailingIsRedeployedWithAFreshSession() throws Exception {
    Supplier<MattingSession> real = tiny();
    AtomicInteger opened = new AtomicInteger();
    Supplier<MattingSession> firstOneBroken = () -> {
      boolean broken = opened.incrementAndGet() == 1;
      return new WrappedSession(real.get(), () -> {
        if (broken) {
          throw new IllegalStateException("device lost");
        }
      }, true);
    };
    try (TestServer server = TestServer.start(models, "tiny", firstOneBroken, c ->
        c.getJsonObject("inference").put("warmupRuns", 0).put("restartAfterFailedBatches", 3))) {
      for (int i = 0; i < 3; i++) {
        HttpResponse<byte[]> r = server.postRaw("/api/v1/matte", "image/png", MatteApiTestAccess.png(40 + i));
        assertEquals(500, r.statusCode());
        assertEquals("inference_failed", MatteApiTestAccess.code(r));
      }
      HttpResponse<byte[]> r = null;
      long deadline = System.currentTimeMillis() + 60_000;
      while (System.currentTimeMillis() < deadline) {
        r = server.postRaw("/api/v1/matte", "image/png", MatteApiTestAccess.png(77));
        if (r.statusCode() == 200) {
          break;
        }
        assertTrue(r.statusCode() == 503 || r.statusCode() == 500, "while replacing: " + r.statusCode());
        Thread.sleep(100);
      }
      assertEquals(200, r.statusCode(), "served again after the redeploy");
      assertEquals(2, opened.get(), "a fresh session was opened");
    }
  }

  @Test
  void outOfMemoryOnABatchFallsBackToSmallerBatches() throws Exception {
    Supplier<MattingSession> real = tiny();
    AtomicInteger ooms = new AtomicInteger();
    Supplier<MattingSession> smallDevice = () -> {
      MattingSession s = real.get();
      return new WrappedSession(s, () -> { }, true) {
        @Override
        public synchronized List<float[]> run(List<io.unimatte.inference.ModelInput> inputs) throws Exception {
          if (inputs.size() > 1) {
            ooms.incrementAndGet();
            throw new OutOfMemoryError("simulated: batch of " + inputs.size() + " does not fit");
          }
          return super.run(inputs);
        }
      };
    };
    try (TestServer server = TestServer.start(models, "tiny", smallDevice, c ->
        c.getJsonObject("inference").put("maxBatchSize", 4).put("maxBatchDelayMs", 300).put("warmupRuns", 0))) {
      ExecutorService pool = Executors.newFixedThreadPool(4);
      List<Future<HttpResponse<byte[]>>> rs = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        byte[] png = MatteApiTestAccess.png(60 + i);
        rs.add(pool.submit(() -> server.postRaw("/api/v1/matte", "image/png", png)));
      }
      for (Future<HttpResponse<byte[]>> f : rs) {
        assertEquals(200, f.get(30, TimeUnit.SECONDS).statusCode());
      }
      pool.shutdown();
      JsonObject health = new JsonObject(new String(server.get("/health").body()));
      assertTrue(health.getInteger("maxBatchSeen") > 1, "a batch larger than memory was formed: " + health);
      assertTrue(ooms.get() > 0, "and it ran out of memory");
      assertEquals(0, health.getLong("failed"), "yet no image failed");
    }
  }
}
