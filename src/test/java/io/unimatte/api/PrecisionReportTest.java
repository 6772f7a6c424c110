package io.unimatte.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unimatte.inference.CpuFeatures;
import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code /health} and {@code /api/v1/models} say which precision the model runs in, and why. */
class PrecisionReportTest {
  @TempDir
  Path models;

  @Test
  void healthAndModelsReportTheBf16Decision() throws Exception {
    TinyModel.write(models, "tiny");
    CpuFeatures.Bf16Decision expected = CpuFeatures.detect().decideBf16("auto");
    try (TestServer server = TestServer.start(models, "tiny", null, cfg -> cfg.getJsonObject("inference")
        .put("bf16", "auto"))) {
      JsonObject health = new JsonObject(new String(server.get("/health").body()));
      assertEquals(expected.enabled() ? "bf16" : "fp32", health.getString("precision"), health.encode());
      assertEquals(expected.reason(), health.getString("precisionReason"));
      JsonObject model = new JsonObject(new String(server.get("/api/v1/models").body()))
          .getJsonArray("models").getJsonObject(0);
      assertEquals(health.getString("precision"), model.getString("precision"));
      assertTrue(model.getString("precisionReason").startsWith("auto: "), model.encode());
      assertEquals("cpu", model.getString("device"));
    }
  }
}
