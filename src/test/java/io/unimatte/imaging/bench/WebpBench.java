package io.unimatte.imaging.bench;

import io.unimatte.imaging.Compositor;
import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.JpegEncoder;
import io.unimatte.imaging.PngEncoder;
import io.unimatte.imaging.Resizer;
import io.unimatte.imaging.WebpEncoder;
import io.unimatte.testing.TestPhotos;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;
import javax.imageio.ImageIO;

/**
 * WebP against PNG (and JPEG for opaque results): file size and encode time of a cutout and of a
 * composite on white, at 0.5 and 12 MP (not a test). Run from the project root:
 * <pre>
 * mvn -q -o test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp target/classes:target/test-classes:$(cat target/cp.txt) io.unimatte.imaging.bench.WebpBench
 * </pre>
 * Prints KiB and the median encode time of several runs after warm-up.
 */
public final class WebpBench {
  private static final String PHOTO = "grace_hopper.jpg";
  private static final int MODEL_SIZE = 1024;
  private static final int NOISE = 7;
  private static final int MORE_EFFORT = 25;
  /** libwebp's own default lossless effort (quality 75, method 4 or 5). */
  private static final int LIBWEBP_DEFAULT_EFFORT = 75;

  private WebpBench() {
  }

  private interface Encode {
    byte[] run();
  }

  private static void report(String what, double mp, int warmup, int runs, Encode e) {
    byte[] out = null;
    for (int i = 0; i < warmup; i++) {
      out = e.run();
    }
    double[] ms = new double[runs];
    for (int i = 0; i < runs; i++) {
      long t0 = System.nanoTime();
      out = e.run();
      ms[i] = (System.nanoTime() - t0) / 1e6;
    }
    Arrays.sort(ms);
    System.out.printf("%-36s %9d KiB %9.1f ms %8.1f ms/MP%n", what, out.length / 1024, ms[runs / 2], ms[runs / 2] / mp);
  }

  /** The test photo scaled to w×h with a little noise (so codecs see texture, as in a real photo). */
  private static int[] photo(int w, int h) throws IOException {
    BufferedImage dst = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = dst.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.drawImage(ImageIO.read(new ByteArrayInputStream(TestPhotos.bytes(PHOTO))), 0, 0, w, h, null);
    g.dispose();
    int[] px = ((DataBufferInt) dst.getRaster().getDataBuffer()).getData();
    Random rnd = new Random(1);
    for (int i = 0; i < px.length; i++) {
      int n = rnd.nextInt(NOISE) - NOISE / 2;
      px[i] = 0xFF000000 | clamp(((px[i] >> 16) & 0xFF) + n) << 16 | clamp(((px[i] >> 8) & 0xFF) + n) << 8
          | clamp((px[i] & 0xFF) + n);
    }
    return px;
  }

  private static int clamp(int v) {
    return Math.max(0, Math.min(255, v));
  }

  /** A soft-edged ellipse matte, like a model's output for a centred subject, upscaled as the server does. */
  private static byte[] matte(int w, int h) {
    float[] a = new float[MODEL_SIZE * MODEL_SIZE];
    for (int y = 0; y < MODEL_SIZE; y++) {
      for (int x = 0; x < MODEL_SIZE; x++) {
        double dx = (x - MODEL_SIZE / 2.0) / (MODEL_SIZE * 0.35);
        double dy = (y - MODEL_SIZE / 2.0) / (MODEL_SIZE * 0.45);
        a[y * MODEL_SIZE + x] = (float) Math.max(0, Math.min(1, (1 - Math.sqrt(dx * dx + dy * dy)) * 20));
      }
    }
    return Resizer.upscaleAlpha(a, MODEL_SIZE, MODEL_SIZE, w, h);
  }

  public static void main(String[] args) throws Exception {
    WebpEncoder webp = new WebpEncoder(true);
    WebpEncoder effort25 = new WebpEncoder(true, MORE_EFFORT);
    WebpEncoder libwebpDefault = new WebpEncoder(true, LIBWEBP_DEFAULT_EFFORT);
    if (!webp.available()) {
      System.out.println("WebP unavailable: " + webp.unavailableReason());
      return;
    }
    PngEncoder png = new PngEncoder();
    System.out.printf("JVM %s, %d cores, %s; PNG level %d (the server's default)%n", System.getProperty("java.version"),
        Runtime.getRuntime().availableProcessors(), System.getProperty("os.arch"), png.level());
    for (int[] size : new int[][] {{1000, 500}, {4000, 3000}}) {
      int w = size[0];
      int h = size[1];
      double mp = w * h / 1e6;
      // small images need more warm-up runs before the JIT has compiled the Java encoders
      int warmup = mp > 4 ? 1 : 15;
      int runs = mp > 4 ? 3 : 9;
      System.out.printf("%n== %dx%d (%.1f MP), median of %d after %d warm-up%n", w, h, mp, runs, warmup);
      DecodedImage img = new DecodedImage(w, h, photo(w, h), "jpeg", false, 1);
      byte[] alpha = matte(w, h);
      int[] cut = Compositor.cutout(img, alpha);
      report("cutout PNG RGBA", mp, warmup, runs, () -> png.encodeRgba(w, h, cut));
      report("cutout WebP lossless (default, 0)", mp, warmup, runs, () -> webp.encode(w, h, cut, true, false, 0));
      report("cutout WebP lossless effort 25", mp, warmup, runs, () -> effort25.encode(w, h, cut, true, false, 0));
      report("cutout WebP lossless effort 75", mp, warmup, runs, () -> libwebpDefault.encode(w, h, cut, true, false, 0));
      report("cutout WebP lossy q90", mp, warmup, runs, () -> webp.encode(w, h, cut, true, true, 90));
      report("cutout WebP lossy q75", mp, warmup, runs, () -> webp.encode(w, h, cut, true, true, 75));
      int[] white = Compositor.onBackground(img, alpha, 0xFFFFFF);
      report("on white PNG RGB", mp, warmup, runs, () -> png.encodeRgb(w, h, white));
      report("on white JPEG q92", mp, warmup, runs, () -> new JpegEncoder(0.92f).encode(w, h, white));
      report("on white WebP lossless (0)", mp, warmup, runs, () -> webp.encode(w, h, white, false, false, 0));
      report("on white WebP lossy q90", mp, warmup, runs, () -> webp.encode(w, h, white, false, true, 90));
    }
  }
}
