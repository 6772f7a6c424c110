package io.unimatte.imaging.refine;

import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.Parallel;
import java.util.Objects;

/**
 * Sharpens an upscaled alpha matte along the photo's own edges, only inside a band around the
 * uncertain pixels. Uses the fast guided filter (He and Sun 2015, after He et al. 2010) with the
 * photo's RGB as guide: the linear coefficients {@code q = a·I + b} are fitted on a subsampled
 * image with box filters (running sums), then upsampled bilinearly and applied to the full-
 * resolution colours, so edges come from the photo while the cost stays mostly at the low
 * resolution. Stateless and thread-safe.
 */
public final class EdgeRefiner {

  /** Alpha at or below this (of 255) counts as background when finding the uncertain pixels. */
  static final int UNCERTAIN_LOW = 8;
  /** Alpha at or above this counts as foreground: ISNet's near-opaque noise is not an edge. */
  static final int UNCERTAIN_HIGH = 247;
  /** Refined alpha at or below this becomes 0 (the guided filter's faint tails). */
  static final int SNAP_LOW = 6;
  /** Refined alpha at or above this becomes 255. */
  static final int SNAP_HIGH = 249;
  /** Wanted window radius on the subsampled grid: coarse enough to be cheap, fine enough to fit edges. */
  private static final int LOW_RES_RADIUS = 2;
  private static final float INV_255 = 1f / 255f;
  private static final int CHANNELS = 3;
  /** Fewest rows per part when a pass is split over cores. */
  private static final int MIN_ROWS_PER_PART = 32;
  /** Fewest pixels per part of a flat pass. */
  private static final int MIN_PIXELS_PER_PART = 1 << 18;

  private EdgeRefiner() {
  }

  /** The refined matte (a new array), same size as {@code alpha}. */
  public static byte[] refine(DecodedImage img, byte[] alpha, RefineOptions opts) {
    Objects.requireNonNull(img, "img").checkMatte(alpha);
    Objects.requireNonNull(opts, "opts");
    int w = img.width();
    int h = img.height();
    byte[] out = alpha.clone();
    byte[] band = band(alpha, w, h, opts.bandRadius());
    if (band == null) {
      return out; // no soft edge at all: nothing to refine
    }
    int s = Math.max(1, opts.radius() / LOW_RES_RADIUS);
    int lw = (w + s - 1) / s;
    int lh = (h + s - 1) / s;
    int lr = Math.max(1, Math.round((float) opts.radius() / s));
    float[][] coef = fitCoefficients(img, alpha, s, lw, lh, lr, (float) opts.eps());
    apply(img, alpha, band, coef, s, lw, lh, (float) opts.strength(), out);
    return out;
  }

  /**
   * 1 where a pixel lies within {@code radius} (Chebyshev distance) of an uncertain pixel, else 0;
   * null when there is no uncertain pixel. Separable: a row pass then a column pass, each two
   * linear sweeps.
   */
  static byte[] band(byte[] alpha, int w, int h, int radius) {
    int n = w * h;
    if (radius == 0) {
      return uncertain(alpha, n); // no distance passes needed
    }
    byte[] rows = new byte[n];
    boolean any = false;
    int[] dist = new int[w];
    boolean[] mark = new boolean[w];
    for (int y = 0; y < h; y++) {
      int row = y * w;
      for (int x = 0; x < w; x++) {
        int a = alpha[row + x] & 0xFF;
        mark[x] = a > UNCERTAIN_LOW && a < UNCERTAIN_HIGH;
        any |= mark[x];
      }
      nearDistances(mark, w, dist);
      for (int x = 0; x < w; x++) {
        rows[row + x] = dist[x] <= radius ? (byte) 1 : 0;
      }
    }
    if (!any) {
      return null;
    }
    // Column pass in row order (cache-friendly): the last marked row above and the next below.
    byte[] band = new byte[n];
    int[] last = new int[w];
    java.util.Arrays.fill(last, Integer.MIN_VALUE / 2);
    for (int y = 0; y < h; y++) {
      int row = y * w;
      for (int x = 0; x < w; x++) {
        if (rows[row + x] != 0) {
          last[x] = y;
        }
        if (y - last[x] <= radius) {
          band[row + x] = 1;
        }
      }
    }
    java.util.Arrays.fill(last, Integer.MAX_VALUE / 2);
    for (int y = h - 1; y >= 0; y--) {
      int row = y * w;
      for (int x = 0; x < w; x++) {
        if (rows[row + x] != 0) {
          last[x] = y;
        }
        if (last[x] - y <= radius) {
          band[row + x] = 1;
        }
      }
    }
    return band;
  }

  /** 1 at the uncertain pixels themselves; null when there is none. */
  private static byte[] uncertain(byte[] alpha, int n) {
    byte[] band = new byte[n];
    java.util.concurrent.atomic.AtomicBoolean found = new java.util.concurrent.atomic.AtomicBoolean();
    Parallel.forRange(n, MIN_PIXELS_PER_PART, (from, to) -> {
      boolean any = false;
      for (int i = from; i < to; i++) {
        int a = alpha[i] & 0xFF;
        if (a > UNCERTAIN_LOW && a < UNCERTAIN_HIGH) {
          band[i] = 1;
          any = true;
        }
      }
      if (any) {
        found.set(true);
      }
    });
    return found.get() ? band : null;
  }

  /** {@code dist[i]} = distance to the nearest {@code mark[j]} (saturating at {@code len}). */
  private static void nearDistances(boolean[] mark, int len, int[] dist) {
    int d = len;
    for (int i = 0; i < len; i++) {
      d = mark[i] ? 0 : Math.min(d + 1, len);
      dist[i] = d;
    }
    d = len;
    for (int i = len - 1; i >= 0; i--) {
      d = mark[i] ? 0 : Math.min(d + 1, len);
      dist[i] = Math.min(dist[i], d);
    }
  }

  /**
   * Guided-filter coefficients on the {@code s}-times subsampled grid: for each low-res pixel the
   * box-averaged {@code a_r, a_g, a_b, b}.
   */
  private static float[][] fitCoefficients(DecodedImage img, byte[] alpha, int s, int lw, int lh, int r, float eps) {
    int w = img.width();
    int h = img.height();
    int m = lw * lh;
    int[] argb = img.argb();
    float[] ir = new float[m];
    float[] ig = new float[m];
    float[] ib = new float[m];
    float[] p = new float[m];
    float[] cnt = new float[m];
    // Area-average s×s blocks (partial blocks at the right/bottom edge average what they have); split by
    // low-res rows, so each part sums its own cells in the same order as one pass would.
    Parallel.forRange(lh, MIN_ROWS_PER_PART, (ly0, ly1) -> {
      for (int y = ly0 * s, yEnd = Math.min(h, ly1 * s); y < yEnd; y++) {
        int row = y * w;
        int lrow = (y / s) * lw;
        for (int x = 0; x < w; x++) {
          int k = lrow + x / s;
          int px = argb[row + x];
          ir[k] += (px >> 16) & 0xFF;
          ig[k] += (px >> 8) & 0xFF;
          ib[k] += px & 0xFF;
          p[k] += alpha[row + x] & 0xFF;
          cnt[k]++;
        }
      }
    });
    for (int k = 0; k < m; k++) {
      float inv = INV_255 / cnt[k];
      ir[k] *= inv;
      ig[k] *= inv;
      ib[k] *= inv;
      p[k] *= inv;
    }
    Box box = new Box(lw, lh, r);
    float[] mr = box.mean(ir);
    float[] mg = box.mean(ig);
    float[] mb = box.mean(ib);
    float[] mp = box.mean(p);
    float[] mrp = box.mean(product(ir, p));
    float[] mgp = box.mean(product(ig, p));
    float[] mbp = box.mean(product(ib, p));
    float[] vrr = box.mean(product(ir, ir));
    float[] vrg = box.mean(product(ir, ig));
    float[] vrb = box.mean(product(ir, ib));
    float[] vgg = box.mean(product(ig, ig));
    float[] vgb = box.mean(product(ig, ib));
    float[] vbb = box.mean(product(ib, ib));
    float[] ar = ir; // inputs are no longer needed: reuse them for the coefficients
    float[] ag = ig;
    float[] ab = ib;
    float[] bb = p;
    for (int k = 0; k < m; k++) {
      float r0 = mr[k];
      float g0 = mg[k];
      float b0 = mb[k];
      float p0 = mp[k];
      // Σ + eps·I (covariance of the guide in the window) and cov(I, p)
      double srr = vrr[k] - r0 * r0 + eps;
      double srg = vrg[k] - r0 * g0;
      double srb = vrb[k] - r0 * b0;
      double sgg = vgg[k] - g0 * g0 + eps;
      double sgb = vgb[k] - g0 * b0;
      double sbb = vbb[k] - b0 * b0 + eps;
      double cr = mrp[k] - r0 * p0;
      double cg = mgp[k] - g0 * p0;
      double cb = mbp[k] - b0 * p0;
      // Symmetric 3×3 inverse by cofactors (positive definite thanks to eps).
      double i00 = sgg * sbb - sgb * sgb;
      double i01 = srb * sgb - srg * sbb;
      double i02 = srg * sgb - srb * sgg;
      double i11 = srr * sbb - srb * srb;
      double i12 = srb * srg - srr * sgb;
      double i22 = srr * sgg - srg * srg;
      double det = srr * i00 + srg * i01 + srb * i02;
      double inv = 1.0 / det;
      float a0 = (float) ((i00 * cr + i01 * cg + i02 * cb) * inv);
      float a1 = (float) ((i01 * cr + i11 * cg + i12 * cb) * inv);
      float a2 = (float) ((i02 * cr + i12 * cg + i22 * cb) * inv);
      ar[k] = a0;
      ag[k] = a1;
      ab[k] = a2;
      bb[k] = p0 - a0 * r0 - a1 * g0 - a2 * b0;
    }
    return new float[][] {box.mean(ar), box.mean(ag), box.mean(ab), box.mean(bb)};
  }

  private static float[] product(float[] a, float[] b) {
    float[] o = new float[a.length];
    for (int i = 0; i < o.length; i++) {
      o[i] = a[i] * b[i];
    }
    return o;
  }

  /**
   * Inside the band: {@code α + strength·(q − α)} with {@code q = a·I + b}, the coefficients
   * sampled bilinearly (half-pixel centres) from the low-res grid.
   */
  private static void apply(DecodedImage img, byte[] alpha, byte[] band, float[][] coef, int s, int lw, int lh,
      float strength, byte[] out) {
    int w = img.width();
    int h = img.height();
    int[] argb = img.argb();
    float[] car = coef[0];
    float[] cag = coef[1];
    float[] cab = coef[2];
    float[] cb = coef[3];
    int[] x0 = new int[w];
    int[] x1 = new int[w];
    float[] fx = new float[w];
    for (int x = 0; x < w; x++) {
      float u = Math.max(0f, (x + 0.5f) / s - 0.5f);
      int xi = Math.min((int) u, lw - 1);
      x0[x] = xi;
      x1[x] = Math.min(xi + 1, lw - 1);
      fx[x] = Math.min(u - xi, 1f);
    }
    Parallel.forRange(h, MIN_ROWS_PER_PART, (yFrom, yTo) -> applyRows(argb, alpha, band, car, cag, cab, cb, x0, x1, fx,
        s, w, lw, lh, strength, out, yFrom, yTo));
  }

  private static void applyRows(int[] argb, byte[] alpha, byte[] band, float[] car, float[] cag, float[] cab,
      float[] cb, int[] x0, int[] x1, float[] fx, int s, int w, int lw, int lh, float strength, byte[] out, int yFrom,
      int yTo) {
    for (int y = yFrom; y < yTo; y++) {
      float v = Math.max(0f, (y + 0.5f) / s - 0.5f);
      int yi = Math.min((int) v, lh - 1);
      float fy = Math.min(v - yi, 1f);
      int r0 = yi * lw;
      int r1 = Math.min(yi + 1, lh - 1) * lw;
      int row = y * w;
      for (int x = 0; x < w; x++) {
        int i = row + x;
        if (band[i] == 0) {
          continue;
        }
        int k00 = r0 + x0[x];
        int k01 = r0 + x1[x];
        int k10 = r1 + x0[x];
        int k11 = r1 + x1[x];
        float wx = fx[x];
        float w00 = (1 - wx) * (1 - fy);
        float w01 = wx * (1 - fy);
        float w10 = (1 - wx) * fy;
        float w11 = wx * fy;
        float ar = w00 * car[k00] + w01 * car[k01] + w10 * car[k10] + w11 * car[k11];
        float ag = w00 * cag[k00] + w01 * cag[k01] + w10 * cag[k10] + w11 * cag[k11];
        float ab = w00 * cab[k00] + w01 * cab[k01] + w10 * cab[k10] + w11 * cab[k11];
        float b = w00 * cb[k00] + w01 * cb[k01] + w10 * cb[k10] + w11 * cb[k11];
        int px = argb[i];
        float q = ar * (((px >> 16) & 0xFF) * INV_255) + ag * (((px >> 8) & 0xFF) * INV_255)
            + ab * ((px & 0xFF) * INV_255) + b;
        q = q < 0f ? 0f : Math.min(q, 1f);
        float a = (alpha[i] & 0xFF) * INV_255;
        int o = (int) ((a + strength * (q - a)) * 255f + 0.5f);
        // The filter's smooth tails leave faint alpha across the whole band: snap them back.
        out[i] = (byte) (o <= SNAP_LOW ? 0 : o >= SNAP_HIGH ? 255 : o);
      }
    }
  }

  /** Mean over the (2r+1)² window clipped to the image, by running sums along rows then columns. */
  private static final class Box {
    private final int w;
    private final int h;
    private final int r;
    private final float[] tmp;
    private final double[] col;

    Box(int w, int h, int r) {
      this.w = w;
      this.h = h;
      this.r = r;
      this.tmp = new float[w * h];
      this.col = new double[w];
    }

    float[] mean(float[] src) {
      float[] dst = new float[w * h];
      // Horizontal window sums; double accumulators avoid drift over long rows.
      for (int y = 0; y < h; y++) {
        int row = y * w;
        double sum = 0;
        for (int x = 0; x < Math.min(r, w); x++) {
          sum += src[row + x];
        }
        for (int x = 0; x < w; x++) {
          if (x + r < w) {
            sum += src[row + x + r];
          }
          if (x - r - 1 >= 0) {
            sum -= src[row + x - r - 1];
          }
          int n = Math.min(x + r, w - 1) - Math.max(x - r, 0) + 1;
          tmp[row + x] = (float) (sum / n);
        }
      }
      // Vertical: a running sum per column, advanced one row at a time (cache-friendly).
      java.util.Arrays.fill(col, 0);
      for (int y = 0; y < Math.min(r, h); y++) {
        int row = y * w;
        for (int x = 0; x < w; x++) {
          col[x] += tmp[row + x];
        }
      }
      for (int y = 0; y < h; y++) {
        if (y + r < h) {
          int add = (y + r) * w;
          for (int x = 0; x < w; x++) {
            col[x] += tmp[add + x];
          }
        }
        if (y - r - 1 >= 0) {
          int sub = (y - r - 1) * w;
          for (int x = 0; x < w; x++) {
            col[x] -= tmp[sub + x];
          }
        }
        float inv = 1f / (Math.min(y + r, h - 1) - Math.max(y - r, 0) + 1);
        int row = y * w;
        for (int x = 0; x < w; x++) {
          dst[row + x] = (float) (col[x] * inv);
        }
      }
      return dst;
    }
  }
}
