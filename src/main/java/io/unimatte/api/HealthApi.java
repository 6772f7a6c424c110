package io.unimatte.api;

import io.unimatte.inference.InferenceVerticle;
import io.unimatte.inference.ModelCatalog;
import io.unimatte.service.MemoryBudget;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.List;
import java.util.Map;

/**
 * {@code GET /health}: 200 with the default model's engine status (and every model's state under
 * {@code models}) once the default model is warm; 503 with {@code Retry-After} while it loads or when
 * it failed. A cluster front is ready when it sees a worker serving the default model. {@code memory}:
 * the process's resident memory and its budget ({@link MemoryBudget#status()}).
 */
final class HealthApi {
  private static final long STATUS_TIMEOUT_MS = 2_000;
  private static final String RETRY_AFTER_SECS = "5";

  private final Vertx vertx;
  private final ModelCatalog models;

  HealthApi(Vertx vertx, ModelCatalog models) {
    this.vertx = vertx;
    this.models = models;
  }

  void handle(RoutingContext ctx) {
    if (vertx.isClustered()) {
      clusterHealth(ctx);
      return;
    }
    String def = models.defaultModel();
    Map<String, JsonObject> statuses = ModelStatuses.of(vertx);
    JsonObject summary = ModelsApi.states(models, statuses);
    JsonObject ready = statuses.get(def);
    if (ready == null || !"ready".equals(ready.getString("status"))) {
      String state = ready != null && "failed".equals(ready.getString("status")) ? "failed" : "starting";
      ctx.response().setStatusCode(503).putHeader("Content-Type", "application/json")
          .putHeader("Retry-After", RETRY_AFTER_SECS)
          .end(new JsonObject().put("status", state).put("model", def).put("models", summary).encode());
      return;
    }
    vertx.eventBus().<JsonObject>request(InferenceVerticle.statusAddress(def), new JsonObject(),
            new DeliveryOptions().setSendTimeout(STATUS_TIMEOUT_MS))
        .onComplete(ar -> {
          JsonObject body = ar.succeeded() ? ar.result().body() : ready.copy().put("status", "busy");
          MemoryBudget budget = MemoryBudget.of(vertx);
          if (budget != null) {
            body.put("memory", budget.status());
          }
          ctx.response().setStatusCode(ar.succeeded() ? 200 : 503)
              .putHeader("Content-Type", "application/json").end(body.put("models", summary).encode());
        });
  }

  /** A cluster front lists the workers with their latest announced status. */
  private void clusterHealth(RoutingContext ctx) {
    List<JsonObject> announced = ModelStatuses.workers(vertx);
    JsonArray workers = new JsonArray();
    announced.forEach(workers::add);
    long nodes = announced.stream().map(w -> w.getString("node")).distinct().count();
    String def = models.defaultModel();
    Map<String, JsonObject> statuses = ModelStatuses.fromWorkers(announced);
    boolean ready = statuses.containsKey(def);
    HttpServerResponse res = ctx.response().setStatusCode(ready ? 200 : 503).putHeader("Content-Type", "application/json");
    if (!ready) {
      res.putHeader("Retry-After", RETRY_AFTER_SECS);
    }
    JsonObject body = new JsonObject().put("status", ready ? "ready" : "no_workers").put("role", "front")
        .put("model", def).put("models", ModelsApi.states(models, statuses)).put("workerCount", nodes)
        .put("workers", workers);
    MemoryBudget budget = MemoryBudget.of(vertx);
    if (budget != null) {
      body.put("memory", budget.status());
    }
    res.end(body.encode());
  }
}
