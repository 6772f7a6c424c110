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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A session call that throws fails only its own batch's images, with a code; the engine goes on
 * and the next request succeeds. The fault is switched on by the test (a wrapper around the
 * real tiny model that throws once).
 */
class FaultInjectionTest {
  @TempDir
  Path models;

  @Test
  void aFailingBatchFailsOnlyItsItemsAndTheNextRequestSucceeds() throws Exception {
    Path dir = TinyModel.write(models, "tiny");
    AtomicBoolean armed = new AtomicBoolean(false);
    AppConfig cfg = AppConfig.of(new JsonObject().put("models", new JsonObject().put("dir", models.toString())
        .put("default", "tiny")).put("inference", new JsonObject().put("intraOpThreads", 1).put("interOpThreads", 1)
        .put("bf16", "off")));
    Supplier<MattingSession> real = io.unimatte.testing.TestSessions.defaultModel(cfg);
    Supplier<MattingSession> faulty = () -> new WrappedSession(real.get(), () -> {
      if (armed.getAndSet(false)) {
        Thread.sleep(300); // let the other uploads join this batch
        throw new IllegalStateException("injected fault");
      }
    }, true);
    try (TestServer server = TestServer.start(models, "tiny", faulty, c ->
        c.getJsonObject("inference").put("maxBatchSize", 8).put("maxBatchDelayMs", 200))) {
      armed.set(true);
      ExecutorService pool = Executors.newFixedThreadPool(3);
      List<Future<HttpResponse<byte[]>>> first = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        byte[] png = MatteApiTestAccess.png(40 + i);
        first.add(pool.submit(() -> server.postRaw("/api/v1/matte", "image/png", png)));
      }
      int failed = 0;
      for (Future<HttpResponse<byte[]>> f : first) {
        HttpResponse<byte[]> r = f.get(30, TimeUnit.SECONDS);
        if (r.statusCode() == 500) {
          assertEquals("inference_failed", MatteApiTestAccess.code(r));
          failed++;
        } else {
          assertEquals(200, r.statusCode(), new String(r.body()));
        }
      }
      pool.shutdown();
      assertTrue(failed >= 1, "the injected batch failed");
      HttpResponse<byte[]> next = server.postRaw("/api/v1/matte", "image/png", MatteApiTestAccess.png(99));
      assertEquals(200, next.statusCode(), "the engine goes on after a failed batch");
      JsonObject health = new JsonObject(new String(server.get("/health").body()));
      assertEquals(failed, health.getLong("failed"));
    }
  }
}
