package io.unimatte.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code inference.cpuMaxBatchSize} caps the batch of a CPU session, and of a CPU session only. */
class CpuBatchSizeTest {
  @TempDir
  Path models;

  @Test
  void theCapAppliesOnTheCpuOnly() {
    assertEquals(1, InferenceVerticle.batchLimit(4, 1, "cpu"));
    assertEquals(2, InferenceVerticle.batchLimit(4, 2, "cpu"));
    assertEquals(4, InferenceVerticle.batchLimit(4, 8, "cpu"));
    assertEquals(4, InferenceVerticle.batchLimit(4, 0, "cpu"), "0: maxBatchSize alone");
    assertEquals(4, InferenceVerticle.batchLimit(4, 1, "gpu:0"));
  }

  @Test
  void theDefaultConfigurationRunsSingleImagesOnTheCpu() throws Exception {
    TinyModel.write(models, "tiny");
    JsonObject defaults = io.unimatte.config.AppConfig.load(Path.of("config.json"), java.util.Map.of(),
        new String[0]).section("inference");
    try (TestServer server = TestServer.start(models, "tiny", null, cfg -> cfg.getJsonObject("inference")
        .put("cpuMaxBatchSize", defaults.getInteger("cpuMaxBatchSize")))) {
      JsonObject health = new JsonObject(new String(server.get("/health").body()));
      assertEquals("cpu", health.getString("device"));
      assertEquals(1, health.getInteger("maxBatchSize"), health.encode());
      assertEquals(4, defaults.getInteger("maxBatchSize"), "a GPU still batches by default");
    }
  }
}
