package io.unimatte.imaging.refine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.ImageDecoder;
import io.unimatte.imaging.MatteConfidence;
import io.unimatte.imaging.PngEncoder;
import io.unimatte.imaging.output.OutputOptions;
import io.unimatte.imaging.output.OutputRenderer;
import io.unimatte.imaging.output.QualitySettings;
import org.junit.jupiter.api.Test;

/**
 * The halo as a user sees it: the hair of GT04 and the fur of GT07, cut out with the ground-truth matte
 * and composited by {@link OutputRenderer} over white and over black, with and without colour
 * estimation. The error is measured on the soft edge pixels against the composite of a long,
 * high-quality foreground estimate; the old background showing through must drop by more than half.
 */
class RenderedHaloTest {

  private static final int WHITE = 0xFFFFFFFF;
  private static final int BLACK = 0xFF000000;

  @Test
  void colourEstimationRemovesTheOldBackgroundFromEdgesOverWhiteAndBlack() throws Exception {
    QualitySettings quality = new QualitySettings(false, true, RefineOptions.DEFAULTS, new ForegroundEstimator(),
        MatteConfidence.DEFAULT_REVIEW_THRESHOLD);
    for (String name : new String[] {"GT04.png", "GT07.png"}) {
      DecodedImage img = RefineTestImages.photo(name);
      byte[] alpha = RefineTestImages.groundTruth(name);
      int[] ref = new ForegroundEstimator(ForegroundEstimatorTest.HIGH_QUALITY).estimate(img, alpha);
      for (int bg : new int[] {WHITE, BLACK}) {
        int[] plain = render(img, alpha, bg, false, quality);
        int[] estimated = render(img, alpha, bg, true, quality);
        double without = RefineTestImages.edgeError(alpha, ref, bg, (i, sh) -> (plain[i] >> sh) & 0xFF);
        double with = RefineTestImages.edgeError(alpha, ref, bg, (i, sh) -> (estimated[i] >> sh) & 0xFF);
        System.out.printf("%s over %s: mean edge colour error (0..255) without %.2f, with %.2f%n",
            name, bg == WHITE ? "white" : "black", without, with);
        assertTrue(with < 0.5 * without, name + ": with " + with + " vs without " + without);
      }
    }
  }

  private static int[] render(DecodedImage img, byte[] alpha, int bg, boolean colour, QualitySettings q)
      throws Exception {
    OutputOptions o = new OutputOptions(false, "png", bg, false, 0, false, 0, 0, 0,
        OutputOptions.DEFAULT_JPEG_QUALITY, false, colour);
    OutputRenderer.Rendered r = OutputRenderer.render(img, alpha, o, new PngEncoder(), q);
    DecodedImage out = new ImageDecoder().decode(r.bytes());
    assertEquals(img.pixelCount(), out.pixelCount());
    return out.argb();
  }
}
