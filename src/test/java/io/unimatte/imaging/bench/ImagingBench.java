package io.unimatte.imaging.bench;

import io.unimatte.imaging.Compositor;
import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.ImageDecoder;
import io.unimatte.imaging.JpegEncoder;
import io.unimatte.imaging.PngEncoder;
import io.unimatte.imaging.Resizer;
import io.unimatte.testing.TestPhotos;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;
import javax.imageio.ImageIO;

/**
 * Speed of the imaging hot path (not a test). Run from the project root:
 * <pre>
 * mvn -q -o test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp target/classes:target/test-classes:$(cat target/cp.txt) io.unimatte.imaging.bench.ImagingBench
 * </pre>
 * Prints the median of several runs after warm-up, in ms and ms per megapixel.
 */
public final class ImagingBench {

  private static final String PHOTO = "grace_hopper.jpg";
  private static final int MODEL_SIZE = 1024;
  private static final int WARMUP = 5;
  private static final int RUNS = 7;
  private static final float[] MEAN = {128, 128, 128};
  private static final float[] STD = {256, 256, 256};

  private ImagingBench() {
  }

  private interface Task {
    Object run() throws Exception;
  }

  private static Object sink;

  private static double medianMs(Task t) throws Exception {
    for (int i = 0; i < WARMUP; i++) {
      sink = t.run();
    }
    double[] ms = new double[RUNS];
    for (int i = 0; i < RUNS; i++) {
      long t0 = System.nanoTime();
      sink = t.run();
      ms[i] = (System.nanoTime() - t0) / 1e6;
    }
    Arrays.sort(ms);
    return ms[RUNS / 2];
  }

  private static void report(String what, double megapixels, Task t) throws Exception {
    double ms = medianMs(t);
    System.out.printf("%-52s %8.1f ms  %7.1f ms/MP%n", what, ms, ms / megapixels);
  }

  /** The test photo scaled to w×h with a little noise (so codecs see texture). */
  private static int[] photo(int w, int h) throws IOException {
    BufferedImage dst = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = dst.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.drawImage(ImageIO.read(new ByteArrayInputStream(TestPhotos.bytes(PHOTO))), 0, 0, w, h, null);
    g.dispose();
    int[] px = ((DataBufferInt) dst.getRaster().getDataBuffer()).getData();
    Random rnd = new Random(1);
    for (int i = 0; i < px.length; i++) {
      int n = rnd.nextInt(7) - 3;
      int r = clamp(((px[i] >> 16) & 0xFF) + n);
      int gg = clamp(((px[i] >> 8) & 0xFF) + n);
      int b = clamp((px[i] & 0xFF) + n);
      px[i] = 0xFF000000 | r << 16 | gg << 8 | b;
    }
    return px;
  }

  private static int clamp(int v) {
    return Math.max(0, Math.min(255, v));
  }

  /** A soft-edged ellipse matte in [0, 1], like a model's output for a centred subject. */
  private static float[] matte(int w, int h) {
    float[] a = new float[w * h];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        double dx = (x - w / 2.0) / (w * 0.35);
        double dy = (y - h / 2.0) / (h * 0.45);
        double d = Math.sqrt(dx * dx + dy * dy);
        a[y * w + x] = (float) Math.max(0, Math.min(1, (1 - d) * 20));
      }
    }
    return a;
  }

  private static byte[] imageIoPng(int w, int h, int[] argb) throws IOException {
    BufferedImage bi = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
    bi.setRGB(0, 0, w, h, argb, 0, w);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(bi, "png", out);
    return out.toByteArray();
  }

  private static byte[] withOrientation6(byte[] jpeg) {
    byte[] tiff = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0};
    byte[] seg = new byte[4 + 6 + tiff.length];
    seg[0] = (byte) 0xFF;
    seg[1] = (byte) 0xE1;
    seg[3] = (byte) (seg.length - 2);
    System.arraycopy(new byte[] {'E', 'x', 'i', 'f', 0, 0}, 0, seg, 4, 6);
    System.arraycopy(tiff, 0, seg, 10, tiff.length);
    byte[] out = new byte[jpeg.length + seg.length];
    System.arraycopy(jpeg, 0, out, 0, 2);
    System.arraycopy(seg, 0, out, 2, seg.length);
    System.arraycopy(jpeg, 2, out, 2 + seg.length, jpeg.length - 2);
    return out;
  }

  public static void main(String[] args) throws Exception {
    ImageDecoder decoder = new ImageDecoder();
    float[] modelAlpha = matte(MODEL_SIZE, MODEL_SIZE);
    System.out.printf("JVM %s, %d cores; median of %d after %d warm-up runs%n",
        System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(), RUNS, WARMUP);
    for (int[] size : new int[][] {{1920, 1080}, {4000, 3000}}) {
      int w = size[0];
      int h = size[1];
      double mp = w * h / 1e6;
      System.out.printf("%n== %dx%d (%.2f MP)%n", w, h, mp);
      int[] px = photo(w, h);
      byte[] jpeg = new JpegEncoder(0.9f).encode(w, h, px);
      byte[] rotated = withOrientation6(jpeg);
      report("decode JPEG q90 (" + jpeg.length / 1024 + " KiB)", mp, () -> decoder.decode(jpeg));
      report("decode JPEG + EXIF orientation 6", mp, () -> decoder.decode(rotated));
      DecodedImage img = decoder.decode(jpeg);
      float[] batch = new float[MODEL_SIZE * MODEL_SIZE * 3];
      report("toModelInput -> 1024x1024 (per source MP)", mp,
          () -> Resizer.toModelInput(img, MODEL_SIZE, MEAN, STD, batch, 0));
      report("upscaleAlpha 1024x1024 -> full (per output MP)", mp,
          () -> Resizer.upscaleAlpha(modelAlpha, MODEL_SIZE, MODEL_SIZE, w, h));
      byte[] alpha = Resizer.upscaleAlpha(modelAlpha, MODEL_SIZE, MODEL_SIZE, w, h);
      report("Compositor.cutout", mp, () -> Compositor.cutout(img, alpha));
      int[] cut = Compositor.cutout(img, alpha);
      for (int level : mp > 4 ? new int[] {1, 2, 4} : new int[] {1, 2, 3, 4, 6}) {
        PngEncoder enc = new PngEncoder(level);
        int bytes = enc.encodeRgba(w, h, cut).length;
        report("PngEncoder.encodeRgba level " + level + " (" + bytes / 1024 + " KiB)", mp,
            () -> enc.encodeRgba(w, h, cut));
      }
      int ioBytes = imageIoPng(w, h, cut).length;
      report("ImageIO PNG writer, defaults (" + ioBytes / 1024 + " KiB)", mp, () -> imageIoPng(w, h, cut));
      PngEncoder enc = new PngEncoder();
      report("PngEncoder.encodeGray (" + enc.encodeGray(w, h, alpha).length / 1024 + " KiB)", mp,
          () -> enc.encodeGray(w, h, alpha));
      byte[] png = enc.encodeRgba(w, h, cut);
      report("decode our RGBA PNG", mp, () -> decoder.decode(png));
    }
  }
}
