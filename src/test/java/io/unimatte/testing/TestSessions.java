package io.unimatte.testing;

import io.unimatte.UnimatteServer;
import io.unimatte.config.AppConfig;
import io.unimatte.inference.MattingSession;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Session factories for tests: the real tiny TF model, with controllable pacing. */
public final class TestSessions {
  private TestSessions() {
  }

  /** Sessions of the configured default model ({@code models.dir}/{@code models.default}), loaded with TF. */
  public static Supplier<MattingSession> defaultModel(AppConfig cfg) {
    java.nio.file.Path dir = java.nio.file.Path.of(cfg.section("models").getString("dir"),
        cfg.section("models").getString("default"));
    UnimatteServer.SessionFactory tf = UnimatteServer.tensorFlowSessions(cfg);
    return () -> {
      try {
        return tf.open(io.unimatte.modelimport.ModelDescriptor.read(dir));
      } catch (Exception e) {
        throw new IllegalStateException(e.getMessage(), e);
      }
    };
  }

  /** The tiny TF model, made slower per call so concurrent requests queue behind it. */
  public static Supplier<MattingSession> slowTinyModel(Path dir, long delayMs, CountDownLatch gate) {
    AppConfig cfg = AppConfig.of(new JsonObject().put("models", new JsonObject().put("dir", dir.getParent().toString())
        .put("default", dir.getFileName().toString())).put("inference", new JsonObject()
        .put("intraOpThreads", 1).put("interOpThreads", 1).put("bf16", "auto")));
    Supplier<MattingSession> real = defaultModel(cfg);
    return () -> new WrappedSession(real.get(), () -> {
      gate.await(30, TimeUnit.SECONDS);
      Thread.sleep(delayMs);
    }, true);
  }
}
