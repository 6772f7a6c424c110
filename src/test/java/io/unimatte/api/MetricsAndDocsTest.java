package io.unimatte.api;

import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
      String text = new String(r.body());
      String ok = "unimatte_http_requests_total{route=\"/api/v1/matte\",status=\"200\"}";
      String bad = "unimatte_http_requests_total{route=\"/api/v1/matte\",status=\"415\"}";
      assertEquals(5, value(text, ok) - value(before, ok), text);
      assertEquals(1, value(text, "unimatte_cache_hits_total") - value(before, "unimatte_cache_hits_total"), text);
      assertEquals(1, value(text, bad) - value(before, bad), text);
      assertTrue(text.contains("unimatte_images_completed_total 4"), text);
      assertTrue(text.contains("unimatte_queue_depth 0"), text);
      assertTrue(text.contains("unimatte_model_ready 1"), text);

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
