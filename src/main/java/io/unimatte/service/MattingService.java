package io.unimatte.service;

import io.unimatte.cache.ResultCache;
import io.unimatte.config.AppConfig;
import io.unimatte.inference.ModelCatalog;
import io.unimatte.service.impl.CachingMattingService;
import io.unimatte.service.impl.DefaultMattingService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.Optional;

/**
 * The matting pipeline every way in shares (HTTP upload, remove.bg, batch job, WebSocket):
 * decode and preprocess on the imaging worker pool, inference over the event bus, then
 * upscale, compose and encode on the worker pool again. Never blocks the caller's event loop.
 *
 * <p>Publishes progress events for each image on {@code unimatte.progress}:
 * {@code queued → decoded → (inferring, from the engine) → encoded → done}, or {@code failed}.
 */
public interface MattingService {

  /** Name of the worker pool that decodes, resizes and encodes. */
  String IMAGING_POOL = "unimatte-imaging";

  /**
   * The pipeline without a cache.
   *
   * @param imaging        the {@code imaging} section of {@code config.json}
   * @param models         the served models (each has its inference verticle)
   * @param replyTimeoutMs how long an image may wait for the model's answer: the queue timeout plus one batch
   */
  static MattingService create(Vertx vertx, JsonObject imaging, ModelCatalog models, long replyTimeoutMs) {
    return new DefaultMattingService(vertx, imaging, models, replyTimeoutMs);
  }

  /** The pipeline behind the result cache: what every way in uses. */
  static MattingService create(Vertx vertx, JsonObject imaging, ModelCatalog models, long replyTimeoutMs,
                               ResultCache cache) {
    return create(vertx, imaging, models, replyTimeoutMs, cache, null);
  }

  /** Like {@link #create(Vertx, JsonObject, ModelCatalog, long, ResultCache)}, images admitted by {@code budget}. */
  static MattingService create(Vertx vertx, JsonObject imaging, ModelCatalog models, long replyTimeoutMs,
                               ResultCache cache, MemoryBudget budget) {
    return new CachingMattingService(vertx, new DefaultMattingService(vertx, imaging, models, replyTimeoutMs, budget),
        cache, models, AppConfig.requireInt(imaging, "workerPoolSize"));
  }

  /** Cuts out one image; fails with a {@link MatteException} carrying a stable code. */
  Future<MatteResult> matte(MatteRequest request);

  /**
   * Why an image for {@code model} (null: the default model) would be refused right now, asked before its
   * upload is read: the model's queue is full, it is still loading, or it failed to load. Empty when it
   * would be taken, and when this node cannot tell (a cluster front, whose queues are on the workers).
   * Reads local state only: cheap enough for every request head.
   */
  default Optional<MatteException> refusal(String model) {
    return Optional.empty();
  }

  /** Releases the worker pool. */
  void close();
}
