package io.unimatte.imaging.refine.bench;

import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.Resizer;
import io.unimatte.imaging.refine.MatteRefiner;
import io.unimatte.imaging.refine.ForegroundEstimator;
import io.unimatte.imaging.refine.RefineOptions;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.util.Arrays;

/**
 * Speed benchmark (a main, not a test): a real photo (GT04, hair: the worst case of matting-dev, half
 * its pixels soft; another with -Dunimatte.image=GT21.png) and our ISNet matte, upscaled to about 2
 * and 12 megapixels as the server would (alpha with {@link Resizer#upscaleAlpha}); prints the median
 * ms per megapixel of {@link MatteRefiner} (colour re-decision + edge filter) and
 * {@link ForegroundEstimator}, single-threaded.
 * Run with a heap of at least 2 GB ({@code -Xmx2g}).
 */
public final class RefineBench {

  private static final int WARMUP = 3;
  private static final int RUNS = 7;
  private static final double[] MEGAPIXELS = {2, 12};

  private RefineBench() {
  }

  public static void main(String[] args) throws Exception {
    RefineQuality.Sample src = RefineQuality.load().stream()
        .filter(s -> s.name().equals(System.getProperty("unimatte.image", "GT04.png"))).findFirst().orElseThrow();
    System.out.printf("%-8s %10s %12s %12s %12s%n", "size", "band px", "refine", "estimate", "total");
    for (double mp : MEGAPIXELS) {
      double scale = Math.sqrt(mp * 1e6 / src.photo().pixelCount());
      int w = (int) Math.round(src.photo().width() * scale);
      int h = (int) Math.round(src.photo().height() * scale);
      DecodedImage img = upscale(src.photo(), w, h);
      byte[] alpha = upscaleAlpha(src, w, h);
      ForegroundEstimator est = new ForegroundEstimator();
      double[] tr = new double[RUNS];
      double[] te = new double[RUNS];
      byte[] refined = null;
      for (int run = -WARMUP; run < RUNS; run++) {
        long t0 = System.nanoTime();
        refined = MatteRefiner.refine(img, alpha, RefineOptions.DEFAULTS);
        long t1 = System.nanoTime();
        est.estimate(img, refined);
        long t2 = System.nanoTime();
        if (run >= 0) {
          tr[run] = (t1 - t0) / 1e6;
          te[run] = (t2 - t1) / 1e6;
        }
      }
      double mpx = img.pixelCount() / 1e6;
      double r = median(tr) / mpx;
      double e = median(te) / mpx;
      System.out.printf("%dx%d (%.1f MP) %6.2f%% band  refine %7.1f ms/MP  estimate %7.1f ms/MP  total %7.1f ms/MP%n",
          w, h, mpx, 100.0 * softCount(refined) / refined.length, r, e, r + e);
    }
  }

  private static int softCount(byte[] a) {
    int c = 0;
    for (byte b : a) {
      int v = b & 0xFF;
      if (v != 0 && v != 255) {
        c++;
      }
    }
    return c;
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static DecodedImage upscale(DecodedImage src, int w, int h) {
    BufferedImage in = new BufferedImage(src.width(), src.height(), BufferedImage.TYPE_INT_RGB);
    in.setRGB(0, 0, src.width(), src.height(), src.argb(), 0, src.width());
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    var g = out.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.drawImage(in, 0, 0, w, h, null);
    g.dispose();
    int[] px = ((DataBufferInt) out.getRaster().getDataBuffer()).getData();
    for (int i = 0; i < px.length; i++) {
      px[i] |= 0xFF000000;
    }
    return new DecodedImage(w, h, px, "png", false, 1);
  }

  private static byte[] upscaleAlpha(RefineQuality.Sample src, int w, int h) {
    byte[] a = src.alpha();
    float[] f = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      f[i] = (a[i] & 0xFF) / 255f;
    }
    return Resizer.upscaleAlpha(f, src.photo().width(), src.photo().height(), w, h);
  }
}
