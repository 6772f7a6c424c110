package io.unimatte.imaging.refine;

import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.ImageDecoder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** Shared test inputs: matting-dev photos and mattes, and small synthetic scenes. */
final class RefineTestImages {

  static final Path DATA = Path.of(System.getProperty("unimatte.data", "../shared/testdata/matting-dev"));

  private RefineTestImages() {
  }

  /** The photo {@code image/NAME}; the test is skipped where the shared data set is absent. */
  static DecodedImage photo(String name) throws Exception {
    return new ImageDecoder().decode(Files.readAllBytes(require(DATA.resolve("image").resolve(name))));
  }

  /** The 8-bit ground-truth matte {@code alpha/NAME}; skipped likewise. */
  static byte[] groundTruth(String name) throws Exception {
    Path p = require(DATA.resolve("alpha").resolve(name));
    int[] px = new ImageDecoder().decode(Files.readAllBytes(p)).argb();
    byte[] a = new byte[px.length];
    for (int i = 0; i < a.length; i++) {
      a[i] = (byte) px[i]; // grey decodes to R = G = B
    }
    return a;
  }

  /**
   * {@code p}, or a skip: matting-dev is research data that may not be redistributed, so a clone
   * without {@code ../shared} beside it runs these tests only where someone placed the set.
   */
  private static Path require(Path p) {
    Assumptions.assumeTrue(Files.isRegularFile(p),
        "matting-dev research data absent (not redistributable), skipped: " + p.toAbsolutePath().normalize());
    return p;
  }

  /** One channel of a candidate's pixel {@code i} over the background, 0..255; the channel is its bit shift. */
  interface Channel {
    double value(int i, int shift);
  }

  /**
   * The halo a viewer sees: mean |candidate − {@code ref} composited over {@code bg}| over the soft pixels
   * (0 &lt; α &lt; 255) and the three channels, 0..255. {@code bg} is opaque ARGB.
   */
  static double edgeError(byte[] alpha, int[] ref, int bg, Channel candidate) {
    double err = 0;
    for (int i = 0; i < alpha.length; i++) {
      int a = alpha[i] & 0xFF;
      if (a == 0 || a == 255) {
        continue;
      }
      for (int shift = 0; shift <= 16; shift += 8) {
        double want = (a * ((ref[i] >> shift) & 0xFF) + (255 - a) * ((bg >> shift) & 0xFF)) / 255.0;
        err += Math.abs(candidate.value(i, shift) - want);
      }
    }
    return err / (3.0 * softPixels(alpha));
  }

  /** How many pixels of the matte are neither 0 nor 255. */
  static int softPixels(byte[] alpha) {
    int n = 0;
    for (byte b : alpha) {
      n += b != 0 && b != (byte) 255 ? 1 : 0;
    }
    return n;
  }

  static DecodedImage image(int w, int h, int[] argb) {
    return new DecodedImage(w, h, argb, "png", false, 1);
  }

  static int rgb(double r, double g, double b) {
    return 0xFF000000 | to8(r) << 16 | to8(g) << 8 | to8(b);
  }

  static int to8(double v) {
    return (int) Math.round(Math.min(1, Math.max(0, v)) * 255);
  }

  /** Anti-aliased disk coverage: 1 inside, 0 outside, linear across {@code soft} px at the rim. */
  static double disk(double x, double y, double cx, double cy, double radius, double soft) {
    double d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
    return Math.min(1, Math.max(0, (radius - d) / soft + 0.5));
  }
}
