package io.unimatte.imaging.refine;

import static io.unimatte.imaging.refine.RefineTestImages.disk;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unimatte.imaging.DecodedImage;
import org.junit.jupiter.api.Test;

class EdgeRefinerTest {

  private static final int SIZE = 200;
  /** Blur applied to the true matte: what upscaling a low-resolution prediction does to an edge. */
  private static final int BLUR = 5;
  private static final RefineOptions FULL_STRENGTH = new RefineOptions(24, 8, 1e-4, 1.0);

  @Test
  void leavesPixelsFarFromTheEdgeUnchanged() throws Exception {
    DecodedImage img = RefineTestImages.photo("GT04.png");
    byte[] alpha = RefineTestImages.groundTruth("GT04.png");
    RefineOptions opts = RefineOptions.DEFAULTS;
    byte[] out = EdgeRefiner.refine(img, alpha, opts);
    int w = img.width();
    int h = img.height();
    int r = opts.bandRadius();
    // independent brute-force check: a changed pixel must have an uncertain pixel within r
    int changed = 0;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int i = y * w + x;
        if (out[i] == alpha[i]) {
          continue;
        }
        changed++;
        boolean near = false;
        for (int yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r) && !near; yy++) {
          for (int xx = Math.max(0, x - r); xx <= Math.min(w - 1, x + r) && !near; xx++) {
            int a = alpha[yy * w + xx] & 0xFF;
            near = a > EdgeRefiner.UNCERTAIN_LOW && a < EdgeRefiner.UNCERTAIN_HIGH;
          }
        }
        assertTrue(near, "changed pixel (" + x + "," + y + ") far from the edge");
      }
    }
    assertTrue(changed > 0, "the refinement did nothing");
  }

  @Test
  void hardMatteIsReturnedAsIs() {
    byte[] alpha = new byte[SIZE * SIZE];
    for (int i = 0; i < alpha.length; i++) {
      alpha[i] = (byte) (i % SIZE < SIZE / 2 ? 255 : 0);
    }
    DecodedImage img = RefineTestImages.image(SIZE, SIZE, new int[SIZE * SIZE]);
    assertArrayEquals(alpha, EdgeRefiner.refine(img, alpha, RefineOptions.DEFAULTS));
  }

  @Test
  void sharpensBlurredMatteAlongImageEdge() {
    int n = SIZE * SIZE;
    int[] argb = new int[n];
    double[] truth = new double[n];
    for (int y = 0; y < SIZE; y++) {
      for (int x = 0; x < SIZE; x++) {
        int i = y * SIZE + x;
        double a = disk(x, y, 100, 95, 60, 1.5);
        truth[i] = a;
        // textured orange subject on a grey-blue background, anti-aliased like a photo
        double fr = 0.85 + 0.1 * Math.sin(x / 6.0);
        double fgc = 0.5 + 0.1 * Math.cos(y / 4.0);
        argb[i] = RefineTestImages.rgb(a * fr + (1 - a) * 0.35, a * fgc + (1 - a) * 0.4, a * 0.15 + (1 - a) * 0.6);
      }
    }
    byte[] blurred = boxBlur(truth, SIZE, SIZE, BLUR);
    DecodedImage img = RefineTestImages.image(SIZE, SIZE, argb);
    double errBlur = sad(blurred, truth);
    // the defaults are deliberately mild (tuned not to harm crisp real edges); a window wider than the
    // blur at full strength shows what the method can do
    double errDefault = sad(EdgeRefiner.refine(img, blurred, RefineOptions.DEFAULTS), truth);
    double errFull = sad(EdgeRefiner.refine(img, blurred, FULL_STRENGTH), truth);
    System.out.printf("synthetic edge: SAD blurred %.1f, refined (defaults) %.1f, refined (full strength) %.1f%n",
        errBlur, errDefault, errFull);
    assertTrue(errDefault < errBlur, "defaults " + errDefault + " vs blurred " + errBlur);
    assertTrue(errFull < 0.75 * errBlur, "full strength " + errFull + " vs blurred " + errBlur);
  }

  @Test
  void rejectsInvalidOptions() {
    assertThrows(IllegalArgumentException.class, () -> new RefineOptions(-1, 4, 1e-3, 1));
    assertThrows(IllegalArgumentException.class, () -> new RefineOptions(8, 0, 1e-3, 1));
    assertThrows(IllegalArgumentException.class, () -> new RefineOptions(8, 4, 0, 1));
    assertThrows(IllegalArgumentException.class, () -> new RefineOptions(8, 4, 1e-3, 1.5));
    DecodedImage img = RefineTestImages.image(2, 2, new int[4]);
    assertThrows(IllegalArgumentException.class, () -> EdgeRefiner.refine(img, new byte[5], RefineOptions.DEFAULTS));
  }

  @Test
  void handlesImagesSmallerThanTheWindow() {
    byte[] alpha = {0, (byte) 128, (byte) 255, 64, 0, (byte) 200};
    byte[] out = EdgeRefiner.refine(RefineTestImages.image(3, 2, new int[6]), alpha, RefineOptions.DEFAULTS);
    assertEquals(6, out.length);
  }

  private static byte[] boxBlur(double[] a, int w, int h, int r) {
    byte[] out = new byte[a.length];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        double s = 0;
        int c = 0;
        for (int yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++) {
          for (int xx = Math.max(0, x - r); xx <= Math.min(w - 1, x + r); xx++) {
            s += a[yy * w + xx];
            c++;
          }
        }
        out[y * w + x] = (byte) RefineTestImages.to8(s / c);
      }
    }
    return out;
  }

  private static double sad(byte[] a, double[] truth) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += Math.abs((a[i] & 0xFF) / 255.0 - truth[i]);
    }
    return s;
  }
}
