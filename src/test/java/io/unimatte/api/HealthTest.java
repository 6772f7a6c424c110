package io.unimatte.api;

import io.unimatte.inference.MattingSession;
import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code /health} says 503 while the model loads and 200 once it is warm; uploads meanwhile get a code. */
class HealthTest {
  @TempDir
  Path models;

  @Test
  void healthIs503UntilTheModelIsWarmThen200() throws Exception {
    Path dir = TinyModel.write(models, "tiny");
    CountDownLatch loaded = new CountDownLatch(1);
    Supplier<MattingSession> real = io.unimatte.testing.TestSessions.slowTinyModel(dir, 0, new CountDownLatch(0));
    Supplier<MattingSession> slowToLoad = () -> {
      try {
        loaded.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return real.get();
    };
    TestServer.Starting starting = TestServer.startAsync(models, "tiny", slowToLoad, cfg -> { });
    try (TestServer server = starting.server()) {
      HttpResponse<byte[]> r = null;
      long deadline = System.currentTimeMillis() + 30_000;
      while (System.currentTimeMillis() < deadline) {
        try {
          r = server.get("/health");
          break;
        } catch (java.net.ConnectException notListeningYet) {
          Thread.sleep(50);
        }
      }
      assertEquals(503, r.statusCode());
      assertEquals("starting", new JsonObject(new String(r.body())).getString("status"));
      assertTrue(r.headers().firstValue("Retry-After").isPresent());

      HttpResponse<byte[]> early = server.postRaw("/api/v1/matte", "image/png",
          MatteApiTest.encode(MatteApiTest.bands(), "png"));
      assertEquals(503, early.statusCode());
      assertEquals("model_not_ready", new JsonObject(new String(early.body())).getJsonObject("error").getString("code"));

      loaded.countDown();
      starting.ready().get(60, TimeUnit.SECONDS);
      r = server.get("/health");
      assertEquals(200, r.statusCode());
      assertEquals("ready", new JsonObject(new String(r.body())).getString("status"));
    }
  }
}
