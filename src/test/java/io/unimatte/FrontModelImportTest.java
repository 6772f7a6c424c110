package io.unimatte;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.unimatte.modelimport.ModelDescriptor;
import io.unimatte.testing.RealModel;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A cluster front prepares images for the workers, so it needs each model's {@code model.json} but
 * never its weights: on first start it writes the descriptors and downloads nothing, and they say
 * the same about the input as the ones a full import writes.
 */
class FrontModelImportTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path models;

  private JsonObject section() {
    return new JsonObject().put("dir", models.toString()).put("default", "isnet").put("autoImport", true)
        .put("serve", new JsonArray().add("isnet").add("rvm"));
  }

  @Test
  void aFrontWritesTheDescriptorsOnlyAndTheyMatchAFullImport() throws Exception {
    Main.importMissingModels(section(), true);

    try (var files = Files.walk(models)) {
      assertEquals(java.util.List.of("isnet/model.json", "rvm/model.json"),
          files.filter(Files::isRegularFile).map(p -> models.relativize(p).toString().replace('\\', '/'))
              .sorted().toList(), "nothing but the two descriptors: no weights, no npm cache");
    }
    ModelDescriptor isnet = ModelDescriptor.read(models.resolve("isnet"));
    ModelDescriptor rvm = ModelDescriptor.read(models.resolve("rvm"));
    assertEquals(1024, isnet.input().size());
    assertEquals(1024, rvm.input().size());

    // what the front prepares for the workers must be what a full import declares
    ModelDescriptor real = ModelDescriptor.read(RealModel.isnetDir());
    assertEquals(real.input().key(), isnet.input().key());
    assertEquals(real.input().layout(), isnet.input().layout());
    assertEquals(real.input().size(), isnet.input().size());
    assertEquals(real.input().colorOrder(), isnet.input().colorOrder());
    assertArrayEquals(real.input().mean(), isnet.input().mean());
    assertArrayEquals(real.input().std(), isnet.input().std());
    assertEquals(real.output(), isnet.output());
    assertEquals(real.signature(), isnet.signature());
    assertEquals(JSON.readTree(RealModel.isnetDir().resolve("model.json").toFile()).get("license"),
        JSON.readTree(models.resolve("isnet/model.json").toFile()).get("license"));
  }

  @Test
  void aFrontKeepsDescriptorsItFindsAndAWorkerStillImportsBehindThem() throws Exception {
    Path isnet = Files.createDirectories(models.resolve("isnet"));
    Files.writeString(isnet.resolve("model.json"), "{\"name\": \"isnet\", \"custom\": true}");
    Main.importMissingModels(section().put("serve", new JsonArray().add("isnet")), true);
    assertTrue(Files.readString(isnet.resolve("model.json")).contains("custom"), "a front never rewrites one");

    // a descriptor without weights (a front's folder reused by a worker) is not taken as an import
    Main.importMissingModels(section().put("serve", new JsonArray().add("isnet")).put("autoImport", false), false);
    assertFalse(Files.exists(isnet.resolve("saved_model.pb")), "autoImport=false touches nothing");
    RealModel.isnetDir(); // the verified ONNX file is in its cache: the worker converts it, no download
    Files.createSymbolicLink(models.resolve(".cache"), RealModel.MODELS_DIR.resolve(".cache").toAbsolutePath());
    Main.importMissingModels(section().put("serve", new JsonArray().add("isnet")), false);
    assertTrue(Files.isRegularFile(isnet.resolve("saved_model.pb")), "the worker imported the weights");
    assertEquals(1024, ModelDescriptor.read(isnet).input().size());
  }
}
