package io.unimatte.imaging.output;

import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.JpegEncoder;
import io.unimatte.imaging.PngEncoder;
import io.unimatte.imaging.Resizer;
import io.unimatte.imaging.WebpEncoder;
import io.unimatte.imaging.refine.MatteRefiner;
import java.util.Arrays;

/**
 * Turns a photo and its full-resolution matte into the requested file: refine the matte, zero it
 * outside the region of interest, crop to the subject, bound the size, lay the subject out on the
 * canvas (scale and position), estimate the foreground colours, compose (cutout, matte, solid
 * colour or background photo) and encode.
 */
public final class OutputRenderer {
  /** Alpha above which a pixel counts as subject when cropping (ignores faint noise). */
  public static final int CROP_THRESHOLD = 8;
  private static final int OPAQUE = 0xFF;
  private static final int OPAQUE_PIXEL = 0xFF000000;
  private static final int WHITE = 0xFFFFFFFF;
  private static final double PERCENT = 100.0;
  /** WebP for callers that do not bring their own encoder (tests, tools): on, if the native loads. */
  private static final WebpEncoder WEBP = new WebpEncoder(true);

  /** The encoded output and the subject's bounding box in it. */
  public record Rendered(byte[] bytes, String contentType, int width, int height, Foreground foreground) {
  }

  /**
   * Pixels of the subject (or the whole framed canvas) and where their top-left corner goes on a
   * {@code canvasW}×{@code canvasH} canvas.
   */
  private record Layer(int[] argb, byte[] alpha, int w, int h, int x, int y, int canvasW, int canvasH) {
    boolean fillsCanvas() {
      return x == 0 && y == 0 && w == canvasW && h == canvasH;
    }
  }

  private OutputRenderer() {
  }

  /** Renders with neither refinement nor colour estimation (the model's matte as it is). */
  public static Rendered render(DecodedImage img, byte[] alpha, OutputOptions o, PngEncoder png) {
    return render(img, alpha, o, png, QualitySettings.OFF);
  }

  /** Refines the full-resolution matte when {@code o} asks for it (or by default), then renders. */
  public static Rendered render(DecodedImage img, byte[] alpha, OutputOptions o, PngEncoder png, QualitySettings q) {
    return renderRefined(img, refineAlpha(img, alpha, o, q), null, o, png, WEBP, q);
  }

  /**
   * The full-resolution matte as {@code o} wants it: refined (a new array) and zeroed outside the
   * region of interest, or {@code alpha} itself when neither applies. Split from rendering so that a
   * caller rendering the same matte twice (cutout and grey matte) refines it once.
   */
  public static byte[] refineAlpha(DecodedImage img, byte[] alpha, OutputOptions o, QualitySettings q) {
    byte[] a = q.refines(o) ? MatteRefiner.refine(img, alpha, q.options()) : alpha;
    if (o.roi() == null) {
      return a;
    }
    // after refinement: the guided filter may not grow the subject back out of the region
    return outsideZeroed(a == alpha ? a.clone() : a, img.width(), img.height(), o.roi().resolve(img.width(),
        img.height()));
  }

  /** Sets {@code a} to 0 outside {@code [x0, y0, x1, y1)}; returns it. */
  private static byte[] outsideZeroed(byte[] a, int w, int h, int[] r) {
    for (int y = 0; y < h; y++) {
      int row = y * w;
      if (y < r[1] || y >= r[3]) {
        Arrays.fill(a, row, row + w, (byte) 0);
      } else {
        Arrays.fill(a, row, row + r[0], (byte) 0);
        Arrays.fill(a, row + r[2], row + w, (byte) 0);
      }
    }
    return a;
  }

  /**
   * Renders a matte that {@link #refineAlpha} has already seen.
   *
   * @param background the decoded {@code bg_image} of {@code o}, or null when it has none
   */
  public static Rendered renderRefined(DecodedImage img, byte[] alpha, DecodedImage background, OutputOptions o,
                                       PngEncoder png, WebpEncoder webp, QualitySettings q) {
    int w = img.width();
    int h = img.height();
    int[] canvas = {0, 0, w, h};
    if (o.crop()) {
      int[] box = subjectBox(alpha, w, h, o);
      if (box != null) {
        canvas = box;
      }
    }
    int[] target = bound(canvas[2] - canvas[0], canvas[3] - canvas[1], o);
    Layer layer = o.laysOut() ? layOut(img.argb(), alpha, w, canvas, target, o) : null;
    if (layer == null) {
      layer = frame(img.argb(), alpha, w, canvas, target);
    }
    boolean sourceAlpha = img.hasAlpha();
    if (q.estimatesColour(o)) {
      // after crop and resize: cheaper, and it also undoes the background that resampling mixed in
      byte[] a = layer.alpha();
      if (sourceAlpha) {
        a = withSourceAlpha(layer.argb(), a);
        sourceAlpha = false;
      }
      int[] estimated = q.estimator().estimate(new DecodedImage(layer.w(), layer.h(), layer.argb(), img.format(), false,
          1), a);
      layer = new Layer(estimated, a, layer.w(), layer.h(), layer.x(), layer.y(), layer.canvasW(), layer.canvasH());
    }
    layer = place(layer);
    int tw = layer.w();
    int th = layer.h();
    byte[] a = layer.alpha();
    Foreground fg = foreground(layer.argb(), a, tw, th, sourceAlpha && !o.matteOnly());
    if (o.matteOnly()) {
      if (o.format().equals("png")) {
        return new Rendered(png.encodeGray(tw, th, a), o.contentType(), tw, th, fg);
      }
      int[] grey = new int[tw * th];
      for (int i = 0; i < grey.length; i++) {
        int v = a[i] & OPAQUE;
        grey[i] = OPAQUE_PIXEL | (v << 16) | (v << 8) | v;
      }
      return new Rendered(encode(grey, tw, th, true, o, png, webp), o.contentType(), tw, th, fg);
    }
    boolean jpg = o.format().equals("jpg");
    int[] bgPixels = background == null ? null : coverFit(background, tw, th, jpg);
    Integer bg = bgPixels != null ? null : o.background() != null ? o.background() : jpg ? Integer.valueOf(WHITE) : null;
    int[] out = compose(layer.argb(), a, bg, bgPixels, sourceAlpha);
    boolean opaque = bg != null && (bg >>> 24) == OPAQUE || bgPixels != null && (jpg || !background.hasAlpha());
    return new Rendered(encode(out, tw, th, opaque, o, png, webp), o.contentType(), tw, th, fg);
  }

  private static byte[] encode(int[] argb, int w, int h, boolean opaque, OutputOptions o, PngEncoder png,
                               WebpEncoder webp) {
    return switch (o.format()) {
      case "jpg" -> new JpegEncoder(o.jpegQuality() / (float) PERCENT).encode(w, h, argb);
      case "webp" -> webp.encode(w, h, argb, !opaque, o.lossy(), o.jpegQuality());
      default -> opaque ? png.encodeRgb(w, h, argb) : png.encodeRgba(w, h, argb);
    };
  }

  /** The canvas region of the photo, resized to the target: the output without a layout. */
  private static Layer frame(int[] argb, byte[] a, int w, int[] canvas, int[] target) {
    int cw = canvas[2] - canvas[0];
    int ch = canvas[3] - canvas[1];
    int[] cArgb = argb;
    byte[] cA = a;
    if (cw * ch != argb.length) {
      cArgb = new int[cw * ch];
      cA = new byte[cw * ch];
      for (int y = 0; y < ch; y++) {
        System.arraycopy(argb, (canvas[1] + y) * w + canvas[0], cArgb, y * cw, cw);
        System.arraycopy(a, (canvas[1] + y) * w + canvas[0], cA, y * cw, cw);
      }
    }
    int tw = target[0];
    int th = target[1];
    if (tw != cw || th != ch) {
      cArgb = resizeArgb(cArgb, cw, ch, tw, th);
      cA = resizeAlpha(cA, cw, ch, tw, th);
    }
    return new Layer(cArgb, cA, tw, th, 0, 0, tw, th);
  }

  /**
   * The subject's box, scaled and placed on the target canvas as {@code o.scale()} and
   * {@code o.position()} say; null when the canvas holds no subject (nothing to move).
   */
  private static Layer layOut(int[] argb, byte[] a, int w, int[] canvas, int[] target, OutputOptions o) {
    int[] sb = alphaBox(a, w, canvas[0], canvas[1], canvas[2], canvas[3]);
    if (sb == null) {
      return null;
    }
    int tw = target[0];
    int th = target[1];
    int bw = sb[2] - sb[0];
    int bh = sb[3] - sb[1];
    // canvas pixels → output pixels (the size bound); the subject keeps this unless scaled
    double k = (double) tw / (canvas[2] - canvas[0]);
    double f = k;
    if (o.scale() != null) {
      // the subject's longer side becomes scale × the canvas's longer side, never past the canvas
      f = Math.min(o.scale() * Math.max(tw, th) / Math.max(bw, bh), Math.min((double) tw / bw, (double) th / bh));
    }
    int sw = Math.max(1, Math.min(tw, (int) Math.round(bw * f)));
    int sh = Math.max(1, Math.min(th, (int) Math.round(bh * f)));
    int x;
    int y;
    OutputOptions.Position p = o.position();
    if (p.original()) {
      // the subject's centre stays where it was on the canvas
      x = (int) Math.round((sb[0] - canvas[0] + bw / 2.0) * k - sw / 2.0);
      y = (int) Math.round((sb[1] - canvas[1] + bh / 2.0) * k - sh / 2.0);
    } else {
      x = (int) Math.round((tw - sw) * p.x());
      y = (int) Math.round((th - sh) * p.y());
    }
    int[] pArgb = new int[bw * bh];
    byte[] pA = new byte[bw * bh];
    for (int row = 0; row < bh; row++) {
      System.arraycopy(argb, (sb[1] + row) * w + sb[0], pArgb, row * bw, bw);
      System.arraycopy(a, (sb[1] + row) * w + sb[0], pA, row * bw, bw);
    }
    if (sw != bw || sh != bh) {
      pArgb = resizeArgb(pArgb, bw, bh, sw, sh);
      pA = resizeAlpha(pA, bw, bh, sw, sh);
    }
    return new Layer(pArgb, pA, sw, sh, x, y, tw, th);
  }

  /** The layer drawn on its transparent canvas (clipped at the edges): a layer that fills it. */
  private static Layer place(Layer l) {
    if (l.fillsCanvas()) {
      return l;
    }
    int cw = l.canvasW();
    int ch = l.canvasH();
    int[] argb = new int[cw * ch];
    byte[] a = new byte[cw * ch];
    int x0 = Math.max(0, l.x());
    int x1 = Math.min(cw, l.x() + l.w());
    for (int y = Math.max(0, l.y()); y < Math.min(ch, l.y() + l.h()) && x1 > x0; y++) {
      int src = (y - l.y()) * l.w() + (x0 - l.x());
      System.arraycopy(l.argb(), src, argb, y * cw + x0, x1 - x0);
      System.arraycopy(l.alpha(), src, a, y * cw + x0, x1 - x0);
    }
    return new Layer(argb, a, cw, ch, 0, 0, cw, ch);
  }

  /** The box of the alpha as it will be written ({@code × source alpha} when that still applies). */
  private static Foreground foreground(int[] argb, byte[] a, int w, int h, boolean sourceAlpha) {
    byte[] effective = sourceAlpha ? withSourceAlpha(argb, a) : a;
    int[] box = alphaBox(effective, w, 0, 0, w, h);
    return box == null ? Foreground.NONE : new Foreground(box[0], box[1], box[2] - box[0], box[3] - box[1]);
  }

  /**
   * The background photo cover-fitted to {@code w}×{@code h}: scaled to fill it, aspect kept, the
   * overflow cut evenly from both sides; flattened on white for formats without alpha.
   */
  static int[] coverFit(DecodedImage bg, int w, int h, boolean flatten) {
    double s = Math.max((double) w / bg.width(), (double) h / bg.height());
    int sw = Math.max(1, Math.min(bg.width(), (int) Math.round(w / s)));
    int sh = Math.max(1, Math.min(bg.height(), (int) Math.round(h / s)));
    int x0 = (bg.width() - sw) / 2;
    int y0 = (bg.height() - sh) / 2;
    int[] px = new int[sw * sh];
    for (int y = 0; y < sh; y++) {
      System.arraycopy(bg.argb(), (y0 + y) * bg.width() + x0, px, y * sw, sw);
    }
    if (sw != w || sh != h) {
      px = resizeArgb(px, sw, sh, w, h);
    }
    if (!bg.hasAlpha()) {
      for (int i = 0; i < px.length; i++) {
        px[i] |= OPAQUE_PIXEL;
      }
    } else if (flatten) {
      px = compose(px, null, WHITE, null, true);
    }
    return px;
  }
  /** The matte times the photo's own alpha (a new array): what the estimator must see as coverage. */
  private static byte[] withSourceAlpha(int[] argb, byte[] a) {
    byte[] out = new byte[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = (byte) ((a[i] & OPAQUE) * (argb[i] >>> 24) / OPAQUE);
    }
    return out;
  }

  /**
   * Straight-alpha "over": the cutout over a (possibly translucent) colour, over a background photo's
   * pixels ({@code bgPixels}, one per pixel), or transparent when both are null. {@code alpha} null
   * means fully opaque (then only the pixels' own alpha counts, with {@code sourceAlpha}).
   */
  static int[] compose(int[] argb, byte[] alpha, Integer bg, int[] bgPixels, boolean sourceAlpha) {
    int[] out = new int[argb.length];
    for (int i = 0; i < argb.length; i++) {
      int p = argb[i];
      int fa = alpha == null ? OPAQUE : alpha[i] & OPAQUE;
      if (sourceAlpha) {
        fa = fa * (p >>> 24) / OPAQUE;
      }
      if (bg == null && bgPixels == null) {
        out[i] = (fa << 24) | (p & 0xFFFFFF);
        continue;
      }
      int b = bgPixels != null ? bgPixels[i] : bg;
      int ba = b >>> 24;
      int outA = fa + ba * (OPAQUE - fa) / OPAQUE;
      if (outA == 0) {
        out[i] = 0;
        continue;
      }
      int r = blend((p >> 16) & OPAQUE, (b >> 16) & OPAQUE, fa, ba, outA);
      int g = blend((p >> 8) & OPAQUE, (b >> 8) & OPAQUE, fa, ba, outA);
      int bl = blend(p & OPAQUE, b & OPAQUE, fa, ba, outA);
      out[i] = (outA << 24) | (r << 16) | (g << 8) | bl;
    }
    return out;
  }

  private static int blend(int f, int b, int fa, int ba, int outA) {
    int v = (f * fa * OPAQUE + b * ba * (OPAQUE - fa) + outA * OPAQUE / 2) / (outA * OPAQUE);
    return Math.min(OPAQUE, v);
  }

  /** [x0, y0, x1, y1) of alpha above the threshold, widened by the margin; null when empty. */
  static int[] subjectBox(byte[] a, int w, int h, OutputOptions o) {
    int[] b = alphaBox(a, w, 0, 0, w, h);
    if (b == null) {
      return null;
    }
    int mx = o.cropMarginPercent() ? (int) Math.round((b[2] - b[0]) * o.cropMargin() / PERCENT) : o.cropMargin();
    int my = o.cropMarginPercent() ? (int) Math.round((b[3] - b[1]) * o.cropMargin() / PERCENT) : o.cropMargin();
    return new int[] {Math.max(0, b[0] - mx), Math.max(0, b[1] - my), Math.min(w, b[2] + mx), Math.min(h, b[3] + my)};
  }

  /** [x0, y0, x1, y1) of alpha above the threshold within the region [rx0, ry0, rx1, ry1); null when empty. */
  static int[] alphaBox(byte[] a, int stride, int rx0, int ry0, int rx1, int ry1) {
    int x0 = rx1;
    int y0 = ry1;
    int x1 = -1;
    int y1 = -1;
    for (int y = ry0; y < ry1; y++) {
      int row = y * stride;
      for (int x = rx0; x < rx1; x++) {
        if ((a[row + x] & OPAQUE) > CROP_THRESHOLD) {
          x0 = Math.min(x0, x);
          x1 = Math.max(x1, x);
          y0 = Math.min(y0, y);
          y1 = y;
        }
      }
    }
    return x1 < 0 ? null : new int[] {x0, y0, x1 + 1, y1 + 1};
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
