package io.unimatte.imaging;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unimatte.imaging.output.OutputOptions;
import io.unimatte.imaging.output.OutputRenderer;
import io.unimatte.imaging.output.QualitySettings;
import io.unimatte.imaging.refine.ForegroundEstimator;
import io.unimatte.imaging.refine.MatteRefiner;
import io.unimatte.imaging.refine.RefineOptions;
import io.unimatte.testing.TestPhotos;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** One image split over several threads gives exactly what one thread gives. */
class ParallelTest {

  /** A real photo with a soft elliptic matte (a wide uncertain ring and hard regions inside and out). */
  private static final class Scene {
    final DecodedImage img;
    final float[] model;
    static final int MODEL = 256;

    Scene() throws Exception {
      DecodedImage photo = new ImageDecoder().decode(TestPhotos.bytes("astronaut.png"));
      img = photo;
      model = new float[MODEL * MODEL];
      for (int y = 0; y < MODEL; y++) {
        for (int x = 0; x < MODEL; x++) {
          double dx = (x - MODEL / 2.0) / (MODEL * 0.3);
          double dy = (y - MODEL / 2.0) / (MODEL * 0.4);
          double d = Math.sqrt(dx * dx + dy * dy);
          model[y * MODEL + x] = (float) Math.max(0, Math.min(1, (1 - d) * 4 + 0.1 * Math.sin(x * 0.7)));
        }
      }
    }
  }

  @Test
  void postProcessingIsTheSameWhateverTheSplit() throws Exception {
    Scene s = new Scene();
    int w = s.img.width();
    int h = s.img.height();
    QualitySettings q = new QualitySettings(true, true, RefineOptions.DEFAULTS, new ForegroundEstimator(), 0.5);
    byte[] alpha1 = Resizer.upscaleAlpha(s.model, Scene.MODEL, Scene.MODEL, w, h);
    byte[] refined1 = MatteRefiner.refine(s.img, alpha1, RefineOptions.DEFAULTS);
    int[] colour1 = q.estimator().estimate(s.img, refined1);
    int[] png1 = new ImageDecoder().decode(OutputRenderer.renderRefined(s.img, refined1, OutputOptions.DEFAULT,
        new PngEncoder(), q).bytes()).argb();
    for (int parts : new int[] {2, 3, 7}) {
      byte[] alpha = Parallel.with(parts, () -> Resizer.upscaleAlpha(s.model, Scene.MODEL, Scene.MODEL, w, h));
      assertArrayEquals(alpha1, alpha, "upscale, " + parts + " parts");
      byte[] refined = Parallel.with(parts, () -> MatteRefiner.refine(s.img, alpha, RefineOptions.DEFAULTS));
      assertArrayEquals(refined1, refined, "refinement, " + parts + " parts");
      assertArrayEquals(colour1, Parallel.with(parts, () -> q.estimator().estimate(s.img, refined)),
          "colours, " + parts + " parts");
      byte[] png = Parallel.with(parts, () -> OutputRenderer.renderRefined(s.img, refined, OutputOptions.DEFAULT,
          new PngEncoder(), q).bytes());
      assertArrayEquals(png1, new ImageDecoder().decode(png).argb(), "cutout, " + parts + " parts");
    }
  }

  @Test
  void splitsOnlyInsideWithAndRunsPartsOnHelpers() {
    assertEquals(1, Parallel.parts());
    Set<String> threads = ConcurrentHashMap.newKeySet();
    Parallel.forRange(1000, 1, (from, to) -> threads.add(Thread.currentThread().getName()));
    assertEquals(Set.of(Thread.currentThread().getName()), threads, "no split by default");
    int[] seen = new int[1000];
    Parallel.with(4, () -> {
      assertEquals(4, Parallel.parts());
      Parallel.forRange(1000, 1, (from, to) -> {
        threads.add(Thread.currentThread().getName());
        for (int i = from; i < to; i++) {
          seen[i]++;
        }
      });
      assertEquals(2, Parallel.partsFor(1000, 400), "no part under its minimum size");
      return null;
    });
    assertEquals(1, Parallel.parts(), "restored after with");
    assertTrue(threads.size() > 1, "helpers ran parts: " + threads);
    for (int v : seen) {
      assertEquals(1, v, "each index exactly once");
    }
  }

  @Test
  void aPartsFailureReachesTheCaller() {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> Parallel.with(3, () -> {
      Parallel.forRange(300, 1, (from, to) -> {
        if (from > 0) {
          throw new IllegalStateException("part " + from);
        }
      });
      return null;
    }));
    assertTrue(e.getMessage().startsWith("part "), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Parallel.with(0, () -> null));
  }
}
