package io.unimatte.imaging;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ResizerTest {

  private static final float[] ZERO = {0, 0, 0};
  private static final float[] ONE = {1, 1, 1};
  private static final float EPS = 1e-3f;

  private static DecodedImage image(int w, int h, int[] argb) {
    return new DecodedImage(w, h, argb, "png", false, 1);
  }

  private static DecodedImage constant(int w, int h, int argb) {
    int[] p = new int[w * h];
    Arrays.fill(p, argb);
    return image(w, h, p);
  }

  @Test
  void constantImageGivesConstantInputWhenShrinkingAndEnlarging() {
    float[] mean = {128, 128, 128};
    float[] std = {256, 256, 256};
    for (DecodedImage img : new DecodedImage[] {constant(37, 23, 0xFF4080C0), constant(5, 3, 0xFF4080C0)}) {
      float[] out = Resizer.toModelInput(img, 16, mean, std, null, 0);
      assertEquals(16 * 16 * 3, out.length);
      for (int i = 0; i < out.length; i += 3) {
        assertEquals((0x40 - 128) / 256f, out[i], EPS);
        assertEquals((0x80 - 128) / 256f, out[i + 1], EPS);
        assertEquals((0xC0 - 128) / 256f, out[i + 2], EPS);
      }
    }
  }

  @Test
  void normalisesPerChannelInNhwcOrder() {
    int[] px = {0xFF000000, 0xFFFF0000, 0xFF00FF00, 0xFF0A141E};
    float[] mean = {0.485f * 255, 0.456f * 255, 0.406f * 255};
    float[] std = {0.229f * 255, 0.224f * 255, 0.225f * 255};
    float[] out = Resizer.toModelInput(image(2, 2, px), 2, mean, std, null, 0);
    for (int i = 0; i < 4; i++) {
      int p = px[i];
      int[] rgb = {(p >> 16) & 0xFF, (p >> 8) & 0xFF, p & 0xFF};
      for (int c = 0; c < 3; c++) {
        assertEquals((rgb[c] - mean[c]) / std[c], out[i * 3 + c], 1e-5f, "pixel " + i + " channel " + c);
      }
    }
  }

  @Test
  void enlargesBilinearlyWithHalfPixelCentres() {
    // columns 0 and 255; output centres map to source x = -0.25, 0.25, 0.75, 1.25 (clamped at the edges)
    int[] px = {0xFF000000, 0xFFFFFFFF, 0xFF000000, 0xFFFFFFFF};
    float[] out = Resizer.toModelInput(image(2, 2, px), 4, ZERO, ONE, null, 0);
    float[] expected = {0, 63.75f, 191.25f, 255};
    for (int y = 0; y < 4; y++) {
      for (int x = 0; x < 4; x++) {
        for (int c = 0; c < 3; c++) {
          assertEquals(expected[x], out[(y * 4 + x) * 3 + c], EPS);
        }
      }
    }
  }

  @Test
  void shrinkingIsAntialiased() {
    // a one-pixel checkerboard must average to grey, not alias into stripes or blocks
    int n = 64;
    int[] px = new int[n * n];
    for (int y = 0; y < n; y++) {
      for (int x = 0; x < n; x++) {
        px[y * n + x] = ((x + y) & 1) == 0 ? 0xFF000000 : 0xFFFFFFFF;
      }
    }
    for (int size : new int[] {8, 13}) {
      float[] out = Resizer.toModelInput(image(n, n, px), size, ZERO, ONE, null, 0);
      for (float v : out) {
        assertEquals(127.5f, v, 8f);
      }
    }
  }

  @Test
  void writesAtOffsetIntoABatchBuffer() {
    int per = 4 * 4 * 3;
    float[] batch = new float[per * 3];
    Arrays.fill(batch, -99f);
    float[] returned = Resizer.toModelInput(constant(10, 7, 0xFF0A0A0A), 4, ZERO, ONE, batch, per);
    assertTrue(returned == batch);
    for (int i = 0; i < batch.length; i++) {
      float expected = i >= per && i < 2 * per ? 10f : -99f;
      assertEquals(expected, batch[i], EPS, "index " + i);
    }
    assertThrows(IllegalArgumentException.class,
        () -> Resizer.toModelInput(constant(2, 2, 0), 4, ZERO, ONE, batch, per * 2 + 1));
  }

  @Test
  void nonSquareSourceIsStretched() {
    // left half red, right half blue, 40x10 -> 8x8: column 1 red, column 6 blue
    int[] px = new int[400];
    for (int i = 0; i < 400; i++) {
      px[i] = i % 40 < 20 ? 0xFFFF0000 : 0xFF0000FF;
    }
    float[] out = Resizer.toModelInput(image(40, 10, px), 8, ZERO, ONE, null, 0);
    for (int y = 0; y < 8; y++) {
      assertEquals(255f, out[(y * 8 + 1) * 3], EPS);
      assertEquals(0f, out[(y * 8 + 1) * 3 + 2], EPS);
      assertEquals(0f, out[(y * 8 + 6) * 3], EPS);
      assertEquals(255f, out[(y * 8 + 6) * 3 + 2], EPS);
    }
  }

  @Test
  void alphaOfSameSizeIsRoundedNotFiltered() {
    float[] a = {0f, 0.5f, 1f, 0.2f, 0.999f, 0.001f};
    byte[] out = Resizer.upscaleAlpha(a, 3, 2, 3, 2);
    int[] expected = {0, 128, 255, 51, 255, 0};
    for (int i = 0; i < a.length; i++) {
      assertEquals(expected[i], out[i] & 0xFF, "pixel " + i);
    }
  }

  @Test
  void constantAlphaStaysConstant() {
    float[] a = new float[16 * 16];
    Arrays.fill(a, 0.4f); // 102.0 after scaling: away from a rounding tie
    for (int[] size : new int[][] {{100, 37}, {7, 5}, {16, 40}}) {
      byte[] out = Resizer.upscaleAlpha(a, 16, 16, size[0], size[1]);
      assertEquals(size[0] * size[1], out.length);
      for (byte b : out) {
        assertEquals(102, b & 0xFF);
      }
    }
  }

  private static float[] stepEdge(int w, int h) {
    float[] a = new float[w * h];
    for (int i = 0; i < a.length; i++) {
      a[i] = i % w < w / 2 ? 0f : 1f;
    }
    return a;
  }

  @Test
  void upscaledStepEdgeIsClampedAndMonotonic() {
    byte[] out = Resizer.upscaleAlpha(stepEdge(8, 8), 8, 8, 64, 48);
    for (int y = 0; y < 48; y++) {
      assertEquals(0, out[y * 64] & 0xFF);
      assertEquals(255, out[y * 64 + 63] & 0xFF);
      for (int x = 1; x < 64; x++) {
        int prev = out[y * 64 + x - 1] & 0xFF;
        int cur = out[y * 64 + x] & 0xFF;
        assertTrue(cur >= prev, "row " + y + " drops at x=" + x + ": " + prev + " -> " + cur);
      }
    }
    // the transition is soft, not nearest-neighbour
    long intermediate = 0;
    for (int x = 0; x < 64; x++) {
      int v = out[x] & 0xFF;
      if (v > 0 && v < 255) {
        intermediate++;
      }
    }
    assertTrue(intermediate >= 4, "edge should be interpolated over several pixels");
  }

  @Test
  void downscaledStepEdgeStaysInRangeAndNearlyMonotonic() {
    byte[] out = Resizer.upscaleAlpha(stepEdge(64, 8), 64, 8, 10, 8);
    for (int y = 0; y < 8; y++) {
      assertEquals(0, out[y * 10] & 0xFF);
      assertEquals(255, out[y * 10 + 9] & 0xFF);
      for (int x = 1; x < 10; x++) {
        assertTrue((out[y * 10 + x] & 0xFF) >= (out[y * 10 + x - 1] & 0xFF) - 3, "Lanczos ringing too strong");
      }
    }
  }

  @Test
  void outOfRangeAlphaIsClamped() {
    byte[] out = Resizer.upscaleAlpha(new float[] {-0.5f, 1.5f, -3f, 7f}, 2, 2, 5, 5);
    for (byte b : out) {
      int v = b & 0xFF;
      assertTrue(v >= 0 && v <= 255);
    }
    assertEquals(0, out[0] & 0xFF);
    assertEquals(255, out[4] & 0xFF);
  }

  @Test
  void weightsSumToOne() {
    for (ResampleFilter f : ResampleFilter.values()) {
      for (int[] io : new int[][] {{1024, 3000}, {3000, 1024}, {7, 7}, {1, 5}, {5, 1}}) {
        ResampleWeights w = ResampleWeights.of(io[0], io[1], f);
        for (int i = 0; i < io[1]; i++) {
          float sum = 0;
          for (int k = 0; k < w.count[i]; k++) {
            sum += w.weights[i * w.stride + k];
          }
          assertEquals(1f, sum, 1e-4f, f + " " + Arrays.toString(io) + " output " + i);
          assertTrue(w.start[i] >= 0 && w.start[i] + w.count[i] <= io[0]);
        }
      }
    }
  }

  @Test
  void rejectsBadArguments() {
    assertThrows(IllegalArgumentException.class, () -> Resizer.upscaleAlpha(new float[3], 2, 2, 4, 4));
    assertThrows(IllegalArgumentException.class, () -> Resizer.upscaleAlpha(new float[4], 2, 2, 0, 4));
    assertThrows(IllegalArgumentException.class,
        () -> Resizer.toModelInput(constant(2, 2, 0), 4, new float[2], ONE, null, 0));
    assertArrayEquals(new byte[] {(byte) 255}, Resizer.upscaleAlpha(new float[] {1f}, 1, 1, 1, 1));
  }
}
