package io.unimatte.api;

import io.unimatte.cluster.InferenceRouter;
import io.unimatte.inference.InferenceVerticle;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Each model's last published state (loading, ready, failed), as {@code /health}, {@code /metrics} and
 * {@code /api/v1/models} show it. A cluster front loads no model: there a model is ready when at
 * least one worker announces it ready.
 */
final class ModelStatuses {
  private ModelStatuses() {
  }

  /** Model name → its status object. */
  static Map<String, JsonObject> of(Vertx vertx) {
    return vertx.isClustered() ? fromWorkers(workers(vertx))
        : vertx.sharedData().<String, JsonObject>getLocalMap(InferenceVerticle.STATUS_MAP);
  }

  /** Per model on a cluster front, from the workers' announcements. */
  static Map<String, JsonObject> fromWorkers(List<JsonObject> announced) {
    Map<String, JsonObject> byModel = new HashMap<>();
    for (JsonObject w : announced) {
      if ("ready".equals(w.getString("status"))) {
        JsonObject s = byModel.computeIfAbsent(w.getString("model"), m -> new JsonObject().put("status", "ready")
            .put("model", m).put("workers", 0));
        s.put("workers", s.getInteger("workers") + 1);
      }
    }
    return byModel;
  }

  /** On a cluster front: the latest announcement of each (worker, model). */
  static List<JsonObject> workers(Vertx vertx) {
    return vertx.sharedData().<String, JsonObject>getLocalMap(InferenceRouter.WORKERS_MAP).values().stream()
        .sorted(Comparator.comparing((JsonObject w) -> w.getString("node") + "/" + w.getString("model")))
        .toList();
  }
}
