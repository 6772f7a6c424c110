package io.unimatte.imaging.refine;

import static io.unimatte.imaging.refine.RefineTestImages.disk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unimatte.imaging.DecodedImage;
import org.junit.jupiter.api.Test;

class ForegroundEstimatorTest {

  private static final int SIZE = 160;
  /** A much longer run than the defaults: the reference the default run is compared with. */
  static final ForegroundEstimator.Params HIGH_QUALITY =
      new ForegroundEstimator.Params(1e-5, 1.0, 20, 12, 64);

  @Test
  void recoversSyntheticForegroundUnderSoftEdge() {
    int n = SIZE * SIZE;
    double[][] fg = new double[n][];
    int[] argb = new int[n];
    byte[] alpha = new byte[n];
    for (int y = 0; y < SIZE; y++) {
      for (int x = 0; x < SIZE; x++) {
        int i = y * SIZE + x;
        // textured warm foreground over a cool, differently textured background
        double[] f = {0.75 + 0.2 * Math.sin(x / 7.0), 0.35 + 0.15 * Math.cos(y / 5.0), 0.2 + 0.1 * Math.sin((x - y) / 11.0)};
        double[] b = {0.1, 0.45 + 0.2 * Math.sin((x + y) / 9.0), 0.85};
        double a = RefineTestImages.to8(disk(x, y, 80, 80, 50, 14)) / 255.0;
        fg[i] = f;
        alpha[i] = (byte) RefineTestImages.to8(a);
        argb[i] = RefineTestImages.rgb(a * f[0] + (1 - a) * b[0], a * f[1] + (1 - a) * b[1],
            a * f[2] + (1 - a) * b[2]);
      }
    }
    DecodedImage img = RefineTestImages.image(SIZE, SIZE, argb);
    int[] everywhere = new ForegroundEstimator().estimate(img, alpha);
    double[] errs = errors(fg, argb, alpha, everywhere);
    System.out.printf("synthetic soft edge: %d band px, mean |F - F_true|: photo RGB %.4f, estimate %.4f%n",
        (int) errs[2], errs[1], errs[0]);
    assertTrue(errs[2] > 1000);
    assertTrue(errs[0] < 0.5 * errs[1], "estimate error " + errs[0] + " vs photo " + errs[1]);

    // The same with every level above 256 pixels solved near the band only (levels 5-7 of 8 here,
    // as the two largest below full resolution are at 12 MP): as close to the truth, within 1%.
    int[] nearBand = new ForegroundEstimator(ForegroundEstimator.Params.DEFAULTS, 256,
        ForegroundEstimator.STRIP_BAND_PIXELS).estimate(img, alpha);
    double[] near = errors(fg, argb, alpha, nearBand);
    System.out.printf("synthetic soft edge, coarse levels near the band only: estimate %.4f (everywhere %.4f)%n",
        near[0], errs[0]);
    assertTrue(near[0] < errs[0] * 1.01, "near-band estimate error " + near[0] + " vs " + errs[0]);
    int maxDiff = 0;
    for (int i = 0; i < n; i++) {
      for (int shift = 0; shift < 24; shift += 8) {
        maxDiff = Math.max(maxDiff, Math.abs(((nearBand[i] >> shift) & 0xFF) - ((everywhere[i] >> shift) & 0xFF)));
      }
    }
    assertTrue(maxDiff <= 8, "near-band estimate differs by " + maxDiff + " levels");

    // The full-resolution band in strips of 300 band pixels (~15 strips, as a 12-MP photo's band is
    // cut): what shows differs from one solve of the whole band by at most one level.
    int[] strips = new ForegroundEstimator(ForegroundEstimator.Params.DEFAULTS,
        ForegroundEstimator.MAX_FULL_LEVEL_PIXELS, 300).estimate(img, alpha);
    double visible = 0;
    for (int i = 0; i < n; i++) {
      for (int shift = 0; shift < 24; shift += 8) {
        int d = Math.abs(((strips[i] >> shift) & 0xFF) - ((everywhere[i] >> shift) & 0xFF));
        visible = Math.max(visible, (alpha[i] & 0xFF) * d / 255.0);
      }
    }
    System.out.printf("synthetic soft edge in strips: largest visible difference %.2f levels%n", visible);
    assertTrue(visible <= 1.0, "strips differ by " + visible + " visible levels");
  }

  /** Mean |F − F_true| of the estimate and of the photo's RGB over the soft pixels, and their count. */
  private static double[] errors(double[][] fg, int[] argb, byte[] alpha, int[] est) {
    double errEst = 0;
    double errRaw = 0;
    int count = 0;
    for (int i = 0; i < alpha.length; i++) {
      int a = alpha[i] & 0xFF;
      if (a == 0 || a == 255) {
        continue;
      }
      count++;
      for (int c = 0; c < 3; c++) {
        int shift = 16 - 8 * c;
        double f = fg[i][c];
        errEst += Math.abs(((est[i] >> shift) & 0xFF) / 255.0 - f);
        errRaw += Math.abs(((argb[i] >> shift) & 0xFF) / 255.0 - f);
      }
    }
    return new double[] {errEst / (3.0 * count), errRaw / (3.0 * count), count};
  }

  @Test
  void keepsOpaqueColoursExactlyAndClearsTransparent() throws Exception {
    DecodedImage img = RefineTestImages.photo("GT04.png");
    byte[] alpha = RefineTestImages.groundTruth("GT04.png");
    int[] out = new ForegroundEstimator().estimate(img, alpha);
    for (int i = 0; i < out.length; i++) {
      int a = alpha[i] & 0xFF;
      assertEquals(a, out[i] >>> 24, "alpha at " + i);
      if (a == 255) {
        assertEquals(img.argb()[i] & 0xFFFFFF, out[i] & 0xFFFFFF, "opaque pixel " + i);
      } else if (a == 0) {
        assertEquals(0, out[i], "transparent pixel " + i);
      }
    }
  }

  /**
   * The colour halo on real hair and fur: composited over white and black with the ground-truth
   * matte, how far from a long, high-quality estimate are (i) the photo's own RGB and (ii) the
   * default estimate. The photo carries the old background, so (ii) must be much closer.
   */
  @Test
  void reducesColourHaloOnHairAndFur() throws Exception {
    for (String name : new String[] {"GT04.png", "GT07.png"}) {
      DecodedImage img = RefineTestImages.photo(name);
      byte[] alpha = RefineTestImages.groundTruth(name);
      int[] est = new ForegroundEstimator().estimate(img, alpha);
      int[] ref = new ForegroundEstimator(HIGH_QUALITY).estimate(img, alpha);
      int count = RefineTestImages.softPixels(alpha);
      for (int bg : new int[] {0, 255}) {
        int grey = 0xFF000000 | bg * 0x010101;
        double errRaw = RefineTestImages.edgeError(alpha, ref, grey,
            (i, sh) -> over(alpha[i] & 0xFF, (img.argb()[i] >> sh) & 0xFF, bg));
        double errEst = RefineTestImages.edgeError(alpha, ref, grey,
            (i, sh) -> over(alpha[i] & 0xFF, (est[i] >> sh) & 0xFF, bg));
        System.out.printf("%s over %s: %d edge px, mean colour error (0..255): photo RGB %.2f, estimate %.2f%n",
            name, bg == 0 ? "black" : "white", count, errRaw, errEst);
        assertTrue(errEst < 0.5 * errRaw, name + ": estimate " + errEst + " vs photo " + errRaw);
      }
    }
  }

  @Test
  void rejectsMismatchedMatte() {
    DecodedImage img = RefineTestImages.image(2, 2, new int[4]);
    assertThrows(IllegalArgumentException.class, () -> new ForegroundEstimator().estimate(img, new byte[3]));
    assertThrows(IllegalArgumentException.class, () -> new ForegroundEstimator.Params(0, 1, 1, 1, 1));
  }

  @Test
  void handlesTinyImages() {
    int[] px = {0xFF102030};
    int[] out = new ForegroundEstimator().estimate(RefineTestImages.image(1, 1, px), new byte[] {(byte) 128});
    assertEquals(128, out[0] >>> 24);
  }

  private static double over(int a, int c, int bg) {
    return (a * c + (255 - a) * bg) / 255.0;
  }
}
