package io.unimatte.imaging.bench;

import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.ImageDecoder;
import io.unimatte.imaging.JpegEncoder;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Camera-sized test photos (not a test): each photo of the source folders scaled to cover
 * {@code WIDTH×HEIGHT} (centre-cropped, aspect kept), with sensor-like noise, saved as a JPEG of
 * quality {@value #QUALITY} like a phone's. Without the noise an upscaled small photo is smooth and
 * compresses far better than a real one, so PNG encoding and the cutouts' sizes would look too good.
 * Deterministic (the noise is seeded by the file name). Usage:
 * {@code RealSizePhotos OUT_DIR WIDTH HEIGHT SRC_DIR...}; existing outputs are kept.
 */
public final class RealSizePhotos {

  /** JPEG quality of the outputs, 0..1. */
  private static final float QUALITY = 0.9f;
  /**
   * Photon (shot) noise: variance in 8-bit levels² per level of brightness, so σ ≈ 2.0 at mid grey
   * and 2.5 at white, about what a phone leaves after its own denoising at base ISO.
   */
  private static final double SHOT_VARIANCE_PER_LEVEL = 0.02;
  /** Read noise variance (levels²): the floor in the shadows. */
  private static final double READ_VARIANCE = 1.0;
  /** Share of the noise that differs between the channels (the rest is common to R, G and B). */
  private static final double CHROMA_SHARE = 0.35;

  private RealSizePhotos() {
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      System.err.println("usage: RealSizePhotos OUT_DIR WIDTH HEIGHT SRC_DIR...");
      System.exit(2);
    }
    Path out = Files.createDirectories(Path.of(args[0]));
    int w = Integer.parseInt(args[1]);
    int h = Integer.parseInt(args[2]);
    ImageDecoder decoder = new ImageDecoder();
    JpegEncoder jpeg = new JpegEncoder(QUALITY);
    for (int a = 3; a < args.length; a++) {
      List<Path> photos;
      try (Stream<Path> files = Files.list(Path.of(args[a]))) {
        photos = files.filter(p -> p.toString().matches("(?i).*\\.(png|jpe?g)$")).sorted().toList();
      }
      for (Path p : photos) {
        String base = p.getFileName().toString().replaceFirst("\\.[^.]+$", "");
        Path target = out.resolve(base + ".jpg");
        if (Files.exists(target)) {
          continue;
        }
        int[] px = cover(decoder.decode(Files.readAllBytes(p)), w, h);
        addNoise(px, new SplittableRandom(base.hashCode()));
        Path tmp = out.resolve(base + ".jpg.part");
        Files.write(tmp, jpeg.encode(w, h, px));
        Files.move(tmp, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        System.out.printf("%s: %dx%d, %d KiB%n", target, w, h, Files.size(target) / 1024);
      }
    }
  }

  /** The photo scaled (bicubic) to cover w×h and centre-cropped to it; opaque. */
  static int[] cover(DecodedImage src, int w, int h) {
    BufferedImage in = new BufferedImage(src.width(), src.height(), BufferedImage.TYPE_INT_RGB);
    in.setRGB(0, 0, src.width(), src.height(), src.argb(), 0, src.width());
    double scale = Math.max((double) w / src.width(), (double) h / src.height());
    int sw = (int) Math.ceil(src.width() * scale);
    int sh = (int) Math.ceil(src.height() * scale);
    BufferedImage dst = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = dst.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
    g.drawImage(in, (w - sw) / 2, (h - sh) / 2, sw, sh, null);
    g.dispose();
    return ((DataBufferInt) dst.getRaster().getDataBuffer()).getData();
  }

  /** Brightness-dependent Gaussian noise, partly shared by the channels (luma) and partly not (chroma). */
  static void addNoise(int[] px, SplittableRandom rnd) {
    double luma = Math.sqrt(1 - CHROMA_SHARE);
    double chroma = Math.sqrt(CHROMA_SHARE);
    for (int i = 0; i < px.length; i++) {
      int p = px[i];
      double common = gaussian(rnd);
      int out = 0xFF000000;
      for (int shift = 16; shift >= 0; shift -= 8) {
        int v = (p >> shift) & 0xFF;
        double sigma = Math.sqrt(READ_VARIANCE + SHOT_VARIANCE_PER_LEVEL * v);
        double n = sigma * (luma * common + chroma * gaussian(rnd));
        int nv = (int) Math.round(v + n);
        out |= Math.max(0, Math.min(255, nv)) << shift;
      }
      px[i] = out;
    }
  }

  /** A standard normal sample (Box-Muller, one of the pair). */
  private static double gaussian(SplittableRandom rnd) {
    double u = 1 - rnd.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd.nextDouble());
  }
}
