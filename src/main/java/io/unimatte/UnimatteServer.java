package io.unimatte;

import io.unimatte.api.HttpVerticle;
import io.unimatte.cache.ResultCache;
import io.unimatte.config.AppConfig;
import io.unimatte.inference.InferenceVerticle;
import io.unimatte.jobs.JobsVerticle;
import io.unimatte.inference.MattingSession;
import io.unimatte.inference.ModelDescriptor;
import io.unimatte.inference.SessionOptions;
import io.unimatte.inference.impl.TensorFlowMattingSession;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * Deploys Unimatte's verticles into a Vert.x instance: the HTTP API first (so {@code /health}
 * answers 503 while the model loads), then the inference worker that owns the model.
 */
public final class UnimatteServer {
  private static final Logger LOG = Logger.getLogger(UnimatteServer.class.getName());
  /** The worker pool the inference verticle runs on (one thread: it owns the session). */
  public static final String INFERENCE_POOL = "unimatte-inference";

  private UnimatteServer() {
  }

  private static Future<String> deployInference(Vertx vertx, AppConfig config, Supplier<MattingSession> sessions) {
    return vertx.deployVerticle(new InferenceVerticle(sessions), new DeploymentOptions()
        .setThreadingModel(ThreadingModel.WORKER)
        .setWorkerPoolName(INFERENCE_POOL)
        .setWorkerPoolSize(1)
        .setConfig(config.section("inference")));
  }

  /**
   * Redeploys the inference verticle with a fresh session when it reports itself unhealthy
   * (consecutive failed batches). Meanwhile uploads get 503 {@code model_not_ready}.
   */
  private static void superviseInference(Vertx vertx, AppConfig config, Supplier<MattingSession> sessions) {
    vertx.eventBus().<String>localConsumer(InferenceVerticle.DEAD_ADDRESS, m -> {
      String id = m.body();
      LOG.warning("event=inference_redeploy old=" + id);
      vertx.undeploy(id)
          .recover(err -> Future.succeededFuture())
          .compose(v -> deployInference(vertx, config, sessions))
          .onSuccess(newId -> LOG.info("event=inference_redeployed id=" + newId))
          .onFailure(err -> LOG.severe("event=inference_redeploy_failed error=" + err.getMessage()));
    });
  }

  /** Folder of the configured default model. */
  public static Path modelDir(AppConfig config) {
    JsonObject models = config.section("models");
    return Path.of(AppConfig.requireString(models, "dir"), AppConfig.requireString(models, "default"));
  }

  /** A session factory that loads the configured model with TensorFlow. */
  public static Supplier<MattingSession> tensorFlowSessions(AppConfig config) {
    Path dir = modelDir(config);
    SessionOptions options = SessionOptions.from(config.section("inference"));
    return () -> {
      try {
        return TensorFlowMattingSession.load(ModelDescriptor.read(dir), options);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    };
  }

  /**
   * Deploys everything; the future completes when the model is warm and the server is ready.
   *
   * @param sessions opens the model session (called once, on the inference worker thread)
   */
  public static Future<Void> deploy(Vertx vertx, AppConfig config, Supplier<MattingSession> sessions) {
    long t0 = System.nanoTime();
    InferenceVerticle.registerCodecs(vertx.eventBus());
    JsonObject httpConfig = config.json().put("modelDir", modelDir(config).toString());
    int instances = AppConfig.requireInt(config.section("server"), "httpInstances");
    ResultCache cache = ResultCache.fromConfig(config.section("cache"));
    return vertx.deployVerticle(new JobsVerticle(), new DeploymentOptions().setConfig(httpConfig))
        .compose(id -> vertx.deployVerticle(() -> new HttpVerticle(cache),
            new DeploymentOptions().setConfig(httpConfig).setInstances(instances)))
        .compose(id -> {
          LOG.info("event=http_listening port=" + config.section("server").getInteger("port"));
          superviseInference(vertx, config, sessions);
          return deployInference(vertx, config, sessions);
        })
        .map(id -> {
          LOG.info("event=ready coldStartMs=" + (System.nanoTime() - t0) / 1_000_000);
          return null;
        });
  }
}
