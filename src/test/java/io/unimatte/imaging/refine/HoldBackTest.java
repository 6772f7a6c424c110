package io.unimatte.imaging.refine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.MatteConfidence;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Issue 23: when the model is sure of almost nothing, refinement must not learn "foreground" from a
 * handful of pixels; it leaves the model's matte to the edge filter, and the confidence flags it.
 */
class HoldBackTest {

  private static final int W = 200;
  private static final int H = 150;
  private static final int BORDER = 12;
  private static final int RADIUS = 50;
  private static final double THRESHOLD = MatteConfidence.DEFAULT_REVIEW_THRESHOLD;
  /** The refinement with the colour step off: what "the model's matte plus the edge filter" means. */
  private static final RefineOptions EDGE_ONLY = new RefineOptions(RefineOptions.DEFAULT_BAND_RADIUS,
      RefineOptions.DEFAULT_RADIUS, RefineOptions.DEFAULT_EPS, RefineOptions.DEFAULT_STRENGTH, 0);

  /**
   * A low-contrast photo (a grey disc on a slightly darker grey, both noisy) whose matte is ~0.5 over
   * everything but a confident background frame, with one 30-pixel highlight inside the subject at 1:
   * about 0.1 % confident foreground, as on the photos where ISNet found no subject.
   */
  @Test
  void withoutConfidentForegroundRefinementLeavesTheModelsMatteToTheEdgeFilter() {
    Random rnd = new Random(23);
    int[] argb = new int[W * H];
    byte[] alpha = new byte[W * H];
    for (int y = 0; y < H; y++) {
      for (int x = 0; x < W; x++) {
        int i = y * W + x;
        boolean subject = Math.hypot(x - W / 2.0, y - H / 2.0) < RADIUS;
        double grey = (subject ? 0.55 : 0.5) + 0.05 * rnd.nextGaussian();
        argb[i] = RefineTestImages.rgb(grey, grey, grey);
        boolean frame = x < BORDER || y < BORDER || x >= W - BORDER || y >= H - BORDER;
        alpha[i] = (byte) (frame ? 0 : 128 + rnd.nextInt(21) - 10);
      }
    }
    for (int y = H / 2; y < H / 2 + 5; y++) {
      for (int x = W / 2; x < W / 2 + 6; x++) {
        argb[y * W + x] = RefineTestImages.rgb(0.9, 0.75, 0.5);
        alpha[y * W + x] = (byte) 255;
      }
    }
    DecodedImage img = RefineTestImages.image(W, H, argb);

    // The trap: trusting those 30 pixels pushes the grey subject to background.
    byte[] trusted = AppearanceModel.apply(img, alpha, 1, false);
    assertTrue(subjectMean(trusted) < 0.5 * subjectMean(alpha),
        "the old colour step erased the subject: " + subjectMean(trusted) + " vs " + subjectMean(alpha));

    assertArrayEquals(alpha, AppearanceModel.apply(img, alpha, 1), "no evidence: the colour step does nothing");
    byte[] refined = MatteRefiner.refine(img, alpha, RefineOptions.DEFAULTS);
    assertArrayEquals(MatteRefiner.refine(img, alpha, EDGE_ONLY), refined,
        "the default refinement is the edge filter alone");
    assertEquals(subjectMean(alpha), subjectMean(refined), 0.1, "the subject stays where the model put it");

    MatteConfidence c = MatteConfidence.of(alpha, W, H);
    assertFalse(c.subjectFound(), c.toString());
    assertTrue(c.score() < 0.01, c.toString());
    assertTrue(c.review(THRESHOLD));
  }

  /** Plenty of evidence on both sides: the hold-back changes nothing. */
  @Test
  void evidenceWeightIsARampOverTheSmallerConfidentSide() {
    assertEquals(0, AppearanceModel.evidenceWeight(0, 1000, 1000));
    assertEquals(0, AppearanceModel.evidenceWeight(5, 1000, 1000), "0.5 % of the uncertain area: none");
    assertEquals(0.5, AppearanceModel.evidenceWeight(12_500, 1_000_000, 1_000_000), 1e-9, "half way");
    assertEquals(1, AppearanceModel.evidenceWeight(20, 1000, 1000), "2 %: in full");
    assertEquals(1, AppearanceModel.evidenceWeight(500, 400, 100));
    assertEquals(0, AppearanceModel.evidenceWeight(1000, 3, 1000), "a handful of background pixels counts too");
    assertEquals(1, AppearanceModel.evidenceWeight(1, 1, 0), "nothing uncertain: nothing to hold back");
  }

  /**
   * On real photos (matting-dev), with the truth as a stand-in for the model's matte: the subject left
   * at 0.71 except its first 0.1 % of confident pixels (a strip at its top). The default refinement is
   * then the edge filter alone, and the matte is flagged. On the flowers (GT11) and the plant (GT21),
   * trusting the strip's colours costs 15 and 35 % SAD; on the toy (GT02) it would have helped.
   */
  @Test
  void onMattingDevPhotosWithAlmostNoConfidentSubjectRefinementIsTheEdgeFilter() throws Exception {
    for (String name : new String[] {"GT02.png", "GT11.png", "GT21.png"}) {
      DecodedImage img = RefineTestImages.photo(name);
      byte[] truth = RefineTestImages.groundTruth(name);
      byte[] alpha = truth.clone();
      int keep = truth.length / 1000;
      for (int i = 0; i < alpha.length; i++) {
        int a = alpha[i] & 0xFF;
        if (a >= MatteConfidence.CONFIDENT_FG && keep-- <= 0) {
          alpha[i] = (byte) Math.round(a * 0.71);
        }
      }
      byte[] edgeOnly = MatteRefiner.refine(img, alpha, EDGE_ONLY);
      assertArrayEquals(edgeOnly, MatteRefiner.refine(img, alpha, RefineOptions.DEFAULTS), name);
      byte[] trusted = EdgeRefiner.refine(img, AppearanceModel.apply(img, alpha, 1, false), EDGE_ONLY);
      if (!name.equals("GT02.png")) {
        assertTrue(sad(trusted, truth) > sad(edgeOnly, truth), name + ": the trap the hold-back avoids");
      }
      MatteConfidence c = MatteConfidence.of(alpha, img.width(), img.height());
      assertTrue(c.review(THRESHOLD), name + ": " + c);
      assertTrue(MatteConfidence.of(truth, img.width(), img.height()).score() > 0.9, name + " truth");
    }
  }

  private static double sad(byte[] a, byte[] truth) {
    long s = 0;
    for (int i = 0; i < a.length; i++) {
      s += Math.abs((a[i] & 0xFF) - (truth[i] & 0xFF));
    }
    return s / 255.0 / 1000.0;
  }

  /** Mean alpha (0..1) inside the disc. */
  private static double subjectMean(byte[] a) {
    double sum = 0;
    int n = 0;
    for (int y = 0; y < H; y++) {
      for (int x = 0; x < W; x++) {
        if (Math.hypot(x - W / 2.0, y - H / 2.0) < RADIUS) {
          sum += (a[y * W + x] & 0xFF) / 255.0;
          n++;
        }
      }
    }
    return sum / n;
  }
}
