package io.unimatte.imaging;

import java.util.Objects;

/**
 * Separable resampling between the full-size photo and the model's square input, and back for the
 * predicted alpha. Both directions stream rows through a small ring of horizontally resampled rows,
 * so the only sizeable allocation is the output itself. Stateless and thread-safe.
 */
public final class Resizer {

  private static final int CHANNELS = 3;
  private static final float MAX_8BIT = 255f;
  /** Fewest output rows per part when a resize is split over cores. */
  private static final int MIN_ROWS_PER_PART = 64;

  private Resizer() {
  }

  /**
   * Writes {@code img} resized to {@code size}×{@code size} (aspect ratio not kept, as the reference
   * pipeline does) into {@code out[offset ...]} as NHWC RGB floats {@code (v - mean[c]) / std[c]}
   * with {@code v} in 0..255. Shrinking averages with a tent filter stretched by the ratio
   * (antialiased); enlarging is bilinear with half-pixel centres. Alpha is ignored: transparent
   * pixels contribute their stored RGB.
   *
   * @param out    destination with room for {@code size * size * 3} floats at {@code offset};
   *               null allocates a new array (then {@code offset} must be 0)
   * @return {@code out}, or the new array
   */
  public static float[] toModelInput(DecodedImage img, int size, float[] mean, float[] std, float[] out, int offset) {
    return toModelInput(img, size, size, mean, std, out, offset);
  }

  /**
   * Like {@link #toModelInput(DecodedImage, int, float[], float[], float[], int)} for a
   * {@code width}×{@code height} target (models that take any size; equal sizes copy the pixels).
   */
  public static float[] toModelInput(DecodedImage img, int width, int height, float[] mean, float[] std, float[] out,
                                     int offset) {
    Objects.requireNonNull(img, "img");
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException("size must be positive: " + width + "x" + height);
    }
    if (mean == null || std == null || mean.length < CHANNELS || std.length < CHANNELS) {
      throw new IllegalArgumentException("mean and std need " + CHANNELS + " values each");
    }
    int rowLen = width * CHANNELS;
    long needed = (long) rowLen * height;
    if (out == null) {
      if (offset != 0) {
        throw new IllegalArgumentException("offset must be 0 when out is null");
      }
      out = new float[Math.toIntExact(needed)];
    } else if (offset < 0 || offset + needed > out.length) {
      throw new IllegalArgumentException("out has " + out.length + " floats; need " + needed + " at " + offset);
    }
    float[] scale = new float[CHANNELS];
    float[] bias = new float[CHANNELS];
    for (int c = 0; c < CHANNELS; c++) {
      scale[c] = 1f / std[c];
      bias[c] = -mean[c] / std[c];
    }
    int srcW = img.width();
    int srcH = img.height();
    int[] argb = img.argb();
    ResampleWeights wx = ResampleWeights.of(srcW, width, ResampleFilter.TRIANGLE);
    ResampleWeights wy = ResampleWeights.of(srcH, height, ResampleFilter.TRIANGLE);

    float[] r = new float[srcW];
    float[] g = new float[srcW];
    float[] b = new float[srcW];
    RowRing ring = new RowRing(wy.maxCount, rowLen, (sy, dst) -> {
      int base = sy * srcW;
      for (int x = 0; x < srcW; x++) {
        int p = argb[base + x];
        r[x] = (p >> 16) & 0xFF;
        g[x] = (p >> 8) & 0xFF;
        b[x] = p & 0xFF;
      }
      int[] start = wx.start;
      int[] count = wx.count;
      float[] w = wx.weights;
      for (int x = 0, o = 0; x < width; x++, o += CHANNELS) {
        int s = start[x];
        int wi = x * wx.stride;
        float ar = 0;
        float ag = 0;
        float ab = 0;
        for (int k = 0, n = count[x]; k < n; k++) {
          float wk = w[wi + k];
          ar += wk * r[s + k];
          ag += wk * g[s + k];
          ab += wk * b[s + k];
        }
        dst[o] = ar;
        dst[o + 1] = ag;
        dst[o + 2] = ab;
      }
    });
    float[] acc = new float[rowLen];
    float s0 = scale[0];
    float s1 = scale[1];
    float s2 = scale[2];
    float b0 = bias[0];
    float b1 = bias[1];
    float b2 = bias[2];
    for (int y = 0; y < height; y++) {
      ring.combine(wy, y, acc);
      int o = offset + y * rowLen;
      for (int i = 0; i < rowLen; i += CHANNELS) {
        out[o + i] = acc[i] * s0 + b0;
        out[o + i + 1] = acc[i + 1] * s1 + b1;
        out[o + i + 2] = acc[i + 2] * s2 + b2;
      }
    }
    return out;
  }

  /**
   * Resizes a predicted alpha matte ({@code srcW}×{@code srcH}, values in [0, 1]) to
   * {@code dstW}×{@code dstH} bytes 0..255: Catmull-Rom bicubic along an axis that grows,
   * Lanczos-3 along one that shrinks; the result is clamped to [0, 1] and rounded.
   */
  public static byte[] upscaleAlpha(float[] alpha, int srcW, int srcH, int dstW, int dstH) {
    Objects.requireNonNull(alpha, "alpha");
    if (srcW <= 0 || srcH <= 0 || dstW <= 0 || dstH <= 0) {
      throw new IllegalArgumentException("sizes must be positive: " + srcW + "x" + srcH + " -> " + dstW + "x" + dstH);
    }
    if (alpha.length < (long) srcW * srcH) {
      throw new IllegalArgumentException("alpha has " + alpha.length + " values; need " + srcW * srcH);
    }
    ResampleWeights wx = ResampleWeights.of(srcW, dstW, filterFor(srcW, dstW));
    ResampleWeights wy = ResampleWeights.of(srcH, dstH, filterFor(srcH, dstH));
    byte[] out = new byte[Math.multiplyExact(dstW, dstH)];
    // each part has its own ring: the few source rows two parts share are resampled twice
    Parallel.forRange(dstH, MIN_ROWS_PER_PART, (from, to) -> {
      RowRing ring = new RowRing(wy.maxCount, dstW, (sy, dst) -> {
        int base = sy * srcW;
        int[] start = wx.start;
        int[] count = wx.count;
        float[] w = wx.weights;
        for (int x = 0; x < dstW; x++) {
          int s = base + start[x];
          int wi = x * wx.stride;
          float a = 0;
          for (int k = 0, n = count[x]; k < n; k++) {
            a += w[wi + k] * alpha[s + k];
          }
          dst[x] = a;
        }
      });
      float[] acc = new float[dstW];
      for (int y = from; y < to; y++) {
        ring.combine(wy, y, acc);
        int o = y * dstW;
        for (int x = 0; x < dstW; x++) {
          float v = Math.min(Math.max(acc[x], 0f), 1f);
          out[o + x] = (byte) (int) (v * MAX_8BIT + 0.5f);
        }
      }
    });
    return out;
  }

  private static ResampleFilter filterFor(int in, int out) {
    return out < in ? ResampleFilter.LANCZOS3 : ResampleFilter.CATMULL_ROM;
  }

  /** Produces the horizontally resampled version of source row {@code sy} into {@code dst}. */
  private interface RowSource {
    void produce(int sy, float[] dst);
  }

  /**
   * Cache of horizontally resampled source rows, keyed by row index. Output rows need runs of
   * consecutive source rows that move forward, so each source row is usually produced exactly once.
   */
  private static final class RowRing {
    private final float[][] rows;
    private final int[] rowIndex;
    private final RowSource source;

    RowRing(int capacity, int rowLen, RowSource source) {
      this.rows = new float[capacity][rowLen];
      this.rowIndex = new int[capacity];
      java.util.Arrays.fill(rowIndex, -1);
      this.source = source;
    }

    private float[] row(int sy) {
      int slot = sy % rows.length;
      if (rowIndex[slot] != sy) {
        source.produce(sy, rows[slot]);
        rowIndex[slot] = sy;
      }
      return rows[slot];
    }

    /** {@code acc = sum_k w_k * row(start + k)}: the vertical pass for output row {@code y}. */
    void combine(ResampleWeights wy, int y, float[] acc) {
      int s = wy.start[y];
      int n = wy.count[y];
      int wi = y * wy.stride;
      float[] w = wy.weights;
      int len = acc.length;
      float[] first = row(s);
      float w0 = w[wi];
      for (int i = 0; i < len; i++) {
        acc[i] = w0 * first[i];
      }
      for (int k = 1; k < n; k++) {
        float[] r = row(s + k);
        float wk = w[wi + k];
        for (int i = 0; i < len; i++) {
          acc[i] += wk * r[i];
        }
      }
    }
  }
}
