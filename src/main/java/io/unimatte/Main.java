package io.unimatte;

import io.unimatte.config.AppConfig;
import io.unimatte.modelimport.ModelImporter;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Starts Unimatte: reads {@code config.json} (+ env + flags), imports the default model on first
 * run, deploys the verticles, and on SIGTERM undeploys them gracefully (queued images finish or
 * fail with a code; none is dropped silently).
 */
public final class Main {
  private static final Logger LOG = Logger.getLogger(Main.class.getName());
  /** Bound on how long a graceful stop may take before the JVM exits anyway. */
  private static final long SHUTDOWN_WAIT_SECONDS = 120;
  private static final String DEFAULT_MODEL = "isnet";

  private Main() {
  }

  public static void main(String[] args) {
    OneLineLogFormatter.install();
    long t0 = System.nanoTime();
    AppConfig config;
    try {
      config = AppConfig.load(Path.of(System.getProperty("unimatte.config", AppConfig.DEFAULT_FILE)),
          System.getenv(), args);
    } catch (IllegalArgumentException e) {
      System.err.println("unimatte: " + e.getMessage());
      System.exit(2);
      return;
    }
    JsonObject models = config.section("models");
    Path modelDir = UnimatteServer.modelDir(config);
    if (!Files.isRegularFile(modelDir.resolve("model.json"))) {
      if (DEFAULT_MODEL.equals(models.getString("default")) && models.getBoolean("autoImport", true)) {
        try {
          LOG.info("event=model_import_start model=isnet dir=" + modelDir);
          ModelImporter.ensureIsnet(Path.of(models.getString("dir")));
        } catch (Exception e) {
          System.err.println("unimatte: cannot import the default model: " + e.getMessage());
          System.exit(3);
          return;
        }
      } else {
        System.err.println("unimatte: model folder " + modelDir + " has no model.json");
        System.exit(3);
        return;
      }
    }
    Vertx vertx = Vertx.vertx(new VertxOptions());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("event=shutdown_start");
      vertx.close().onComplete(ar -> stopped.countDown());
      try {
        stopped.await(SHUTDOWN_WAIT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      LOG.info("event=shutdown_done");
    }, "unimatte-shutdown"));
    UnimatteServer.deploy(vertx, config, UnimatteServer.tensorFlowSessions(config))
        .onSuccess(v -> LOG.info("event=started port=" + config.section("server").getInteger("port")
            + " startMs=" + (System.nanoTime() - t0) / 1_000_000))
        .onFailure(err -> {
          System.err.println("unimatte: failed to start: " + err.getMessage());
          System.exit(1);
        });
  }
}
