package io.unimatte.api;

import io.unimatte.cache.ResultCache;
import io.unimatte.inference.InferenceVerticle;
import io.unimatte.inference.ModelCatalog;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.List;

/** {@code GET /metrics}: Prometheus text of the request counters, the engine's and the cache's. */
final class MetricsApi {
  private static final long STATUS_TIMEOUT_MS = 2_000;

  private final Vertx vertx;
  private final ModelCatalog models;
  private final ResultCache cache;
  private final InFlightBudget budget;

  MetricsApi(Vertx vertx, ModelCatalog models, ResultCache cache, InFlightBudget budget) {
    this.vertx = vertx;
    this.models = models;
    this.cache = cache;
    this.budget = budget;
  }

  /**
   * The default model's engine counters: the local engine's, or on a cluster front the sum of the
   * workers' announcements.
   */
  private Future<JsonObject> engineStatus() {
    if (!vertx.isClustered()) {
      return vertx.eventBus().<JsonObject>request(InferenceVerticle.statusAddress(models.defaultModel()),
          new JsonObject(), new DeliveryOptions().setSendTimeout(STATUS_TIMEOUT_MS)).map(m -> m.body());
    }
    List<JsonObject> workers = ModelStatuses.workers(vertx).stream()
        .filter(w -> models.defaultModel().equals(w.getString("model"))).toList();
    if (workers.isEmpty()) {
      return Future.failedFuture("no workers");
    }
    JsonObject sum = new JsonObject();
    JsonArray histogram = new JsonArray();
    for (JsonObject w : workers) {
      for (String key : List.of("queueDepth", "submitted", "completed", "failed", "rejected", "timedOut", "batches",
          "batchMillis")) {
        sum.put(key, sum.getLong(key, 0L) + w.getLong(key, 0L));
      }
      JsonArray h = w.getJsonArray("batchSizeHistogram", new JsonArray());
      for (int i = 0; i < h.size(); i++) {
        if (i < histogram.size()) {
          histogram.set(i, histogram.getLong(i) + h.getLong(i));
        } else {
          histogram.add(h.getLong(i));
        }
      }
    }
    return Future.succeededFuture(sum.put("batchSizeHistogram", histogram).put("workers", workers.size()));
  }

  void handle(RoutingContext ctx) {
    engineStatus().onComplete(ar -> {
          StringBuilder out = new StringBuilder(2048);
          Metrics.appendRequests(out);
          if (vertx.isClustered()) {
            Metrics.gauge(out, "unimatte_workers", "inference workers this front sees", "gauge",
                ar.succeeded() ? ar.result().getInteger("workers") : 0);
          }
          Metrics.gauge(out, "unimatte_model_ready", "1 once the model is loaded and warm", "gauge", ar.succeeded() ? 1 : 0);
          if (ar.succeeded()) {
            JsonObject s = ar.result();
            Metrics.gauge(out, "unimatte_queue_depth", "images waiting for the model", "gauge", s.getInteger("queueDepth"));
            Metrics.gauge(out, "unimatte_images_submitted_total", "images offered to the inference queue", "counter",
                s.getLong("submitted"));
            Metrics.gauge(out, "unimatte_images_completed_total", "images the model finished", "counter", s.getLong("completed"));
            Metrics.gauge(out, "unimatte_images_failed_total", "images that failed in the engine", "counter", s.getLong("failed"));
            Metrics.gauge(out, "unimatte_images_rejected_total", "images refused with queue_full", "counter", s.getLong("rejected"));
            Metrics.gauge(out, "unimatte_images_timed_out_total", "images that waited past queueTimeoutMs", "counter",
                s.getLong("timedOut"));
            Metrics.gauge(out, "unimatte_batches_total", "session calls", "counter", s.getLong("batches"));
            Metrics.gauge(out, "unimatte_inference_seconds_total", "time spent in session calls", "counter",
                s.getLong("batchMillis", 0L) / 1000.0);
            out.append("# HELP unimatte_batch_size_total session calls by batch size\n")
                .append("# TYPE unimatte_batch_size_total counter\n");
            var h = s.getJsonArray("batchSizeHistogram");
            for (int i = 0; i < h.size(); i++) {
              out.append("unimatte_batch_size_total{size=\"").append(i + 1).append("\"} ").append(h.getLong(i)).append('\n');
            }
          }
          ResultCache.CacheStats cs = cache.stats();
          Metrics.gauge(out, "unimatte_cache_hits_total", "answers served from the result cache", "counter", cs.hits());
          Metrics.gauge(out, "unimatte_cache_misses_total", "lookups the result cache could not answer", "counter", cs.misses());
          Metrics.gauge(out, "unimatte_cache_bytes", "weighted bytes held by the result cache", "gauge", cs.weightedBytes());
          Metrics.gauge(out, "unimatte_inflight_bytes", "bytes of request bodies and WebSocket messages held now",
              "gauge", budget.held());
          Metrics.gauge(out, "unimatte_inflight_limit_bytes", "server.maxInFlightBytes in effect", "gauge", budget.limit());
          Runtime rt = Runtime.getRuntime();
          Metrics.gauge(out, "unimatte_heap_used_bytes", "JVM heap in use (collected or not)", "gauge",
              rt.totalMemory() - rt.freeMemory());
          Metrics.gauge(out, "unimatte_heap_max_bytes", "the JVM's maximum heap", "gauge", rt.maxMemory());
          ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4").end(out.toString());
        });
  }

}
