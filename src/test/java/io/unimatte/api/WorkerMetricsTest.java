package io.unimatte.api;

import io.unimatte.config.AppConfig;
import io.unimatte.inference.InferenceVerticle;
import io.unimatte.inference.ModelCatalog;
import io.unimatte.testing.TinyModel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A cluster worker has no HTTP API: it serves {@code /metrics} alone when given a port, behind the API keys. */
class WorkerMetricsTest {
  private static final long WAIT_SECONDS = 30;
  @TempDir
  Path models;
  private Vertx vertx;
  private final HttpClient http = HttpClient.newHttpClient();

  @AfterEach
  void close() throws Exception {
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
    }
  }

  private AppConfig config(String... flags) {
    return AppConfig.load(Path.of(AppConfig.DEFAULT_FILE), Map.of(), flags);
  }

  private ModelCatalog tinyCatalog() throws Exception {
    TinyModel.write(models, "tiny");
    return ModelCatalog.fromConfig(new JsonObject().put("dir", models.toString()).put("default", "tiny")
        .put("serve", new io.vertx.core.json.JsonArray().add("tiny")));
  }

  private HttpResponse<String> get(int port, String path, String key) throws Exception {
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
    if (key != null) {
      req.header("X-Api-Key", key);
    }
    return http.send(req.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void servesMetricsAloneBehindTheApiKeys() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    vertx = Vertx.vertx(MetricsApi.enable(new VertxOptions()));
    vertx.sharedData().<String, JsonObject>getLocalMap(InferenceVerticle.STATUS_MAP)
        .put("tiny", new JsonObject().put("status", "ready").put("model", "tiny"));
    AppConfig config = config("--server.host=127.0.0.1", "--cluster.workerMetricsPort=" + port,
        "--security.apiKeys=[\"k1\"]");
    MetricsApi.serveWorker(vertx, config, tinyCatalog()).toCompletionStage().toCompletableFuture()
        .get(WAIT_SECONDS, TimeUnit.SECONDS);

    assertEquals(401, get(port, "/metrics", null).statusCode());
    HttpResponse<String> r = get(port, "/metrics", "k1");
    assertEquals(200, r.statusCode());
    assertTrue(r.body().contains("\njvm_memory_used_bytes{area=\"heap\""), r.body());
    assertTrue(r.body().contains("\nunimatte_model_ready{model=\"tiny\"} 1"), r.body());
    assertEquals(404, get(port, "/health", "k1").statusCode());

    // an outgoing pool (as image_url fetches open, to any host) is not named after its host:port
    vertx.createHttpClient().request(HttpMethod.GET, port, "127.0.0.1", "/health")
        .compose(req -> req.send().compose(res -> res.body())).toCompletionStage().toCompletableFuture()
        .get(WAIT_SECONDS, TimeUnit.SECONDS);
    String text = get(port, "/metrics", "k1").body();
    assertTrue(text.contains("pool_name=\"all\",pool_type=\"http\""), text);
    assertFalse(text.contains(":" + port + "\""), text);
  }

  @Test
  void portZeroServesNothing() throws Exception {
    vertx = Vertx.vertx(MetricsApi.enable(new VertxOptions()));
    MetricsApi.serveWorker(vertx, config(), tinyCatalog()).toCompletionStage().toCompletableFuture()
        .get(WAIT_SECONDS, TimeUnit.SECONDS);
    assertEquals(0, config().section("cluster").getInteger("workerMetricsPort"));
  }
}
