package io.unimatte.api;

import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code /metrics} counts what happened; {@code /openapi.json} describes the routes that exist. */
class MetricsAndDocsTest {
  @TempDir
  Path models;

  private static double value(String metrics, String series) {
    for (String line : metrics.split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1));
      }
    }
    return 0;
  }

  @Test
  void metricsCountRequestsAndBatches() throws Exception {
    TinyModel.write(models, "tiny");
    try (TestServer server = TestServer.start(models, "tiny", null, cfg -> { })) {
      byte[] png = MatteApiTest.encode(MatteApiTest.bands(), "png");
      // request counters are process-wide (other test classes share the JVM): compare deltas
      String before = new String(server.get("/metrics").body());
      for (int i = 0; i < 3; i++) {
        var img = MatteApiTest.bands();
        img.setRGB(0, 0, i); // three different images: the cache must not answer them
        assertEquals(200, server.postRaw("/api/v1/matte", "image/png", MatteApiTest.encode(img, "png")).statusCode());
      }
      assertEquals(200, server.postRaw("/api/v1/matte", "image/png", png).statusCode());
      assertEquals(200, server.postRaw("/api/v1/matte", "image/png", png).statusCode());
      assertEquals(415, server.postRaw("/api/v1/matte", "image/png", "text".getBytes()).statusCode());
      HttpResponse<byte[]> r = server.get("/metrics");
      assertEquals(200, r.statusCode());
      assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"), r.headers().toString());
      String text = new String(r.body());
      // was unimatte_http_requests_total{route,status}: Vert.x's request counter, by route template and code
      String ok = "vertx_http_server_requests_total{code=\"200\",method=\"POST\",route=\"/api/v1/matte\"}";
      String bad = "vertx_http_server_requests_total{code=\"415\",method=\"POST\",route=\"/api/v1/matte\"}";
      assertEquals(5, value(text, ok) - value(before, ok), text);
      assertEquals(1, value(text, "unimatte_cache_hits_total") - value(before, "unimatte_cache_hits_total"), text);
      // four first sights, and the undecodable body (looked up before it is decoded)
      assertEquals(5, value(text, "unimatte_cache_misses_total") - value(before, "unimatte_cache_misses_total"), text);
      assertEquals(1, value(text, bad) - value(before, bad), text);
      // the engine meters carry the model: the same counts as before, per model
      assertEquals(4, value(text, "unimatte_images_completed_total{model=\"tiny\"}"), text);
      assertTrue(text.contains("\nunimatte_queue_depth{model=\"tiny\"} 0"), text);
      assertEquals(1, value(text, "unimatte_model_ready{model=\"tiny\"}"), text);

      // latency histogram by route and status (the route template, not the raw path)
      assertEquals(5, value(text, "vertx_http_server_response_time_seconds_bucket{code=\"200\",method=\"POST\","
          + "route=\"/api/v1/matte\",le=\"+Inf\"}") - value(before, "vertx_http_server_response_time_seconds_bucket"
          + "{code=\"200\",method=\"POST\",route=\"/api/v1/matte\",le=\"+Inf\"}"), text);
      assertTrue(text.contains("vertx_http_server_response_time_seconds_bucket{code=\"200\",method=\"POST\","
          + "route=\"/api/v1/matte\",le=\"0.1\"}"), text);
      assertTrue(text.contains("vertx_http_server_response_time_seconds_sum{code=\"200\",method=\"GET\","
          + "route=\"/metrics\"}"), text);
      // JVM, event loops and worker pools
      assertTrue(text.contains("\njvm_memory_used_bytes{area=\"heap\""), text);
      assertTrue(text.contains("\njvm_gc_"), text);
      assertTrue(text.contains("\njvm_threads_live_threads "), text);
      assertTrue(text.contains("\nnetty_eventexecutor_tasks_pending{name=\"vert.x-eventloop-thread-"), text);
      assertTrue(text.contains("\nvertx_pool_in_use{pool_name=\"vert.x-worker-thread\",pool_type=\"worker\"}"), text);
      // session calls as a histogram: one per batch here (no batch was split)
      double calls = value(text, "unimatte_inference_seconds_count{model=\"tiny\"}");
      assertTrue(calls >= 1, text);
      assertEquals(value(text, "unimatte_batches_total{model=\"tiny\"}"), calls, text);
      assertEquals(calls, value(text, "unimatte_inference_seconds_bucket{model=\"tiny\",le=\"+Inf\"}"), text);
      assertTrue(value(text, "unimatte_inference_seconds_sum{model=\"tiny\"}") > 0, text);
      assertEquals(4, value(text, "unimatte_batch_size_total{model=\"tiny\",size=\"1\"}")
          + 2 * value(text, "unimatte_batch_size_total{model=\"tiny\",size=\"2\"}")
          + 3 * value(text, "unimatte_batch_size_total{model=\"tiny\",size=\"3\"}")
          + 4 * value(text, "unimatte_batch_size_total{model=\"tiny\",size=\"4\"}"), text);
      // no raw path becomes a label: an unknown path counts under the route that answered it
      assertEquals(404, server.get("/no/such/" + java.util.UUID.randomUUID()).statusCode());
      assertFalse(new String(server.get("/metrics").body()).contains("/no/such/"));

      JsonObject models = new JsonObject(new String(server.get("/api/v1/models").body()));
      JsonObject m = models.getJsonArray("models").getJsonObject(0);
      assertEquals("tiny", m.getString("name"));
      assertEquals(32, m.getJsonObject("contract").getInteger("inputSize"));
      assertEquals("test", m.getJsonObject("license").getString("weights"));

      JsonObject api = new JsonObject(new String(server.get("/openapi.json").body()));
      assertEquals("3.0.3", api.getString("openapi"));
      for (String path : new String[] {"/api/v1/matte", "/api/v1/jobs", "/api/v1/jobs/{id}/archive",
          "/api/v1/jobs/{id}/retry", "/health", "/metrics"}) {
        assertTrue(api.getJsonObject("paths").containsKey(path), path);
      }
    }
  }
}
