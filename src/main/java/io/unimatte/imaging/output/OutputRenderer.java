package io.unimatte.imaging.output;

import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.JpegEncoder;
import io.unimatte.imaging.PngEncoder;
import io.unimatte.imaging.Resizer;
import io.unimatte.imaging.refine.MatteRefiner;

/**
 * Turns a photo and its full-resolution matte into the requested file: refine the matte, crop to
 * the subject, bound the size, estimate the foreground colours, compose (cutout, matte or solid
 * background) and encode.
 */
public final class OutputRenderer {
  /** Alpha above which a pixel counts as subject when cropping (ignores faint noise). */
  public static final int CROP_THRESHOLD = 8;
  private static final int OPAQUE = 0xFF;
  private static final int WHITE = 0xFFFFFFFF;
  private static final double PERCENT = 100.0;

  /** The encoded output. */
  public record Rendered(byte[] bytes, String contentType, int width, int height) {
  }

  private OutputRenderer() {
  }

  /** Renders with neither refinement nor colour estimation (the model's matte as it is). */
  public static Rendered render(DecodedImage img, byte[] alpha, OutputOptions o, PngEncoder png) {
    return render(img, alpha, o, png, QualitySettings.OFF);
  }

  /** Refines the full-resolution matte when {@code o} asks for it (or by default), then renders. */
  public static Rendered render(DecodedImage img, byte[] alpha, OutputOptions o, PngEncoder png, QualitySettings q) {
    return renderRefined(img, refineAlpha(img, alpha, o, q), o, png, q);
  }

  /**
   * The full-resolution matte as {@code o} wants it: refined (a new array), or {@code alpha} itself.
   * Split from rendering so that a caller rendering the same matte twice (cutout and grey matte)
   * refines it once.
   */
  public static byte[] refineAlpha(DecodedImage img, byte[] alpha, OutputOptions o, QualitySettings q) {
    return q.refines(o) ? MatteRefiner.refine(img, alpha, q.options()) : alpha;
  }

  /** Renders a matte that {@link #refineAlpha} has already seen. */
  public static Rendered renderRefined(DecodedImage img, byte[] alpha, OutputOptions o, PngEncoder png,
                                       QualitySettings q) {
    return renderRefined(img, alpha, o, png, q, null);
  }

  /**
   * As {@link #renderRefined(DecodedImage, byte[], OutputOptions, PngEncoder, QualitySettings)}; adds the
   * nanoseconds spent estimating foreground colours to {@code colourNanos[0]} when given.
   */
  public static Rendered renderRefined(DecodedImage img, byte[] alpha, OutputOptions o, PngEncoder png,
                                       QualitySettings q, long[] colourNanos) {
    int w = img.width();
    int h = img.height();
    int[] argb = img.argb();
    byte[] a = alpha;
    if (o.crop()) {
      int[] box = subjectBox(a, w, h, o);
      if (box != null) {
        int cw = box[2] - box[0];
        int ch = box[3] - box[1];
        int[] cArgb = new int[cw * ch];
        byte[] cA = new byte[cw * ch];
        for (int y = 0; y < ch; y++) {
          System.arraycopy(argb, (box[1] + y) * w + box[0], cArgb, y * cw, cw);
          System.arraycopy(a, (box[1] + y) * w + box[0], cA, y * cw, cw);
        }
        argb = cArgb;
        a = cA;
        w = cw;
        h = ch;
      }
    }
    int[] target = bound(w, h, o);
    if (target[0] != w || target[1] != h) {
      argb = resizeArgb(argb, w, h, target[0], target[1]);
      a = resizeAlpha(a, w, h, target[0], target[1]);
      w = target[0];
      h = target[1];
    }
    if (o.matteOnly()) {
      if (o.format().equals("jpg")) {
        int[] grey = new int[w * h];
        for (int i = 0; i < grey.length; i++) {
          int v = a[i] & OPAQUE;
          grey[i] = (OPAQUE << 24) | (v << 16) | (v << 8) | v;
        }
        return new Rendered(new JpegEncoder(o.jpegQuality() / 100f).encode(w, h, grey), o.contentType(), w, h);
      }
      return new Rendered(png.encodeGray(w, h, a), o.contentType(), w, h);
    }
    Integer bg = o.background() != null ? o.background() : o.format().equals("jpg") ? Integer.valueOf(WHITE) : null;
    boolean sourceAlpha = img.hasAlpha();
    boolean estimated = q.estimatesColour(o);
    if (estimated) {
      // after crop and resize: cheaper, and it also undoes the background that resampling mixed in
      if (sourceAlpha) {
        a = withSourceAlpha(argb, a);
        sourceAlpha = false;
      }
      long t0 = System.nanoTime();
      argb = q.estimator().estimate(new DecodedImage(w, h, argb, img.format(), false, 1), a);
      if (colourNanos != null) {
        colourNanos[0] += System.nanoTime() - t0;
      }
    }
    // the estimator's result already is the transparent cutout (matte in A): composing would copy it
    int[] out = bg == null && estimated ? argb : compose(argb, a, bg, sourceAlpha);
    if (o.format().equals("jpg")) {
      return new Rendered(new JpegEncoder(o.jpegQuality() / 100f).encode(w, h, out), o.contentType(), w, h);
    }
    boolean opaque = bg != null && (bg >>> 24) == OPAQUE;
    return new Rendered(opaque ? png.encodeRgb(w, h, out) : png.encodeRgba(w, h, out), o.contentType(), w, h);
  }

  /** The matte times the photo's own alpha (a new array): what the estimator must see as coverage. */
  private static byte[] withSourceAlpha(int[] argb, byte[] a) {
    byte[] out = new byte[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = (byte) ((a[i] & OPAQUE) * (argb[i] >>> 24) / OPAQUE);
    }
    return out;
  }

  /** Straight-alpha "over": the cutout over a (possibly translucent) colour, or transparent. */
  static int[] compose(int[] argb, byte[] alpha, Integer bg, boolean sourceAlpha) {
    int[] out = new int[argb.length];
    for (int i = 0; i < argb.length; i++) {
      int p = argb[i];
      int fa = alpha[i] & OPAQUE;
      if (sourceAlpha) {
        fa = fa * (p >>> 24) / OPAQUE;
      }
      if (bg == null) {
        out[i] = (fa << 24) | (p & 0xFFFFFF);
        continue;
      }
      int ba = bg >>> 24;
      int outA = fa + ba * (OPAQUE - fa) / OPAQUE;
      if (outA == 0) {
        out[i] = 0;
        continue;
      }
      int r = blend((p >> 16) & OPAQUE, (bg >> 16) & OPAQUE, fa, ba, outA);
      int g = blend((p >> 8) & OPAQUE, (bg >> 8) & OPAQUE, fa, ba, outA);
      int b = blend(p & OPAQUE, bg & OPAQUE, fa, ba, outA);
      out[i] = (outA << 24) | (r << 16) | (g << 8) | b;
    }
    return out;
  }

  private static int blend(int f, int b, int fa, int ba, int outA) {
    int v = (f * fa * OPAQUE + b * ba * (OPAQUE - fa) + outA * OPAQUE / 2) / (outA * OPAQUE);
    return Math.min(OPAQUE, v);
  }

  /** [x0, y0, x1, y1) of alpha above the threshold, widened by the margin; null when empty. */
  static int[] subjectBox(byte[] a, int w, int h, OutputOptions o) {
    int x0 = w;
    int y0 = h;
    int x1 = -1;
    int y1 = -1;
    for (int y = 0; y < h; y++) {
      int row = y * w;
      for (int x = 0; x < w; x++) {
        if ((a[row + x] & OPAQUE) > CROP_THRESHOLD) {
          x0 = Math.min(x0, x);
          x1 = Math.max(x1, x);
          y0 = Math.min(y0, y);
          y1 = Math.max(y1, y);
        }
      }
    }
    if (x1 < 0) {
      return null;
    }
    int mx = o.cropMarginPercent() ? (int) Math.round((x1 - x0 + 1) * o.cropMargin() / PERCENT) : o.cropMargin();
    int my = o.cropMarginPercent() ? (int) Math.round((y1 - y0 + 1) * o.cropMargin() / PERCENT) : o.cropMargin();
    return new int[] {Math.max(0, x0 - mx), Math.max(0, y0 - my), Math.min(w, x1 + 1 + mx), Math.min(h, y1 + 1 + my)};
  }

  /** Output size within the bounds, aspect kept, never larger than the input. */
  static int[] bound(int w, int h, OutputOptions o) {
    double scale = 1;
    if (o.maxPixels() > 0 && (long) w * h > o.maxPixels()) {
      scale = Math.sqrt((double) o.maxPixels() / ((long) w * h));
    }
    if (o.maxWidth() > 0) {
      scale = Math.min(scale, Math.min((double) o.maxWidth() / w, (double) o.maxHeight() / h));
    }
    if (scale >= 1) {
      return new int[] {w, h};
    }
    return new int[] {Math.max(1, (int) Math.floor(w * scale)), Math.max(1, (int) Math.floor(h * scale))};
  }

  private static byte[] resizeAlpha(byte[] a, int w, int h, int nw, int nh) {
    float[] f = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      f[i] = (a[i] & OPAQUE) / (float) OPAQUE;
    }
    return Resizer.upscaleAlpha(f, w, h, nw, nh);
  }

  /** Resamples each channel with the imaging package's filter (antialiased when shrinking). */
  private static int[] resizeArgb(int[] argb, int w, int h, int nw, int nh) {
    byte[][] ch = new byte[4][];
    for (int c = 0; c < 4; c++) {
      float[] f = new float[argb.length];
      int shift = 24 - 8 * c;
      for (int i = 0; i < argb.length; i++) {
        f[i] = ((argb[i] >>> shift) & OPAQUE) / (float) OPAQUE;
      }
      ch[c] = Resizer.upscaleAlpha(f, w, h, nw, nh);
    }
    int[] out = new int[nw * nh];
    for (int i = 0; i < out.length; i++) {
      out[i] = ((ch[0][i] & OPAQUE) << 24) | ((ch[1][i] & OPAQUE) << 16) | ((ch[2][i] & OPAQUE) << 8) | (ch[3][i] & OPAQUE);
    }
    return out;
  }
}
