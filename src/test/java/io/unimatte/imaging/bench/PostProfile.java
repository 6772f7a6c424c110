package io.unimatte.imaging.bench;

import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.ImageDecoder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs {@link PostPipeline} on one photo again and again in this JVM's own build (not a test), for a
 * profiler (e.g. {@code -XX:StartFlightRecording}) or {@code valgrind --tool=callgrind}. Usage:
 * {@code PostProfile PHOTO MATTE RUNS [SCALE]}; SCALE &lt; 1 shrinks the photo first (callgrind is slow).
 */
public final class PostProfile {
  private PostProfile() {
  }

  public static void main(String[] args) throws Exception {
    DecodedImage img = new ImageDecoder(new io.unimatte.imaging.ImageLimits(200L << 20, 60_000_000L, 1000)).decode(Files.readAllBytes(Path.of(args[0])));
    int[] size = new int[2];
    float[] model = MatteDump.read(Path.of(args[1]), size);
    int runs = Integer.parseInt(args[2]);
    double scale = args.length > 3 ? Double.parseDouble(args[3]) : 1;
    if (scale < 1) {
      int w = (int) Math.round(img.width() * scale);
      int h = (int) Math.round(img.height() * scale);
      int[] px = new int[w * h];
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          px[y * w + x] = img.argb()[(int) (y / scale) * img.width() + (int) (x / scale)];
        }
      }
      img = new DecodedImage(w, h, px, "jpeg", false, 1);
    }
    long[] t = new long[PostPipeline.STAGES.length];
    for (int r = 0; r < runs; r++) {
      byte[] png = PostPipeline.run(img.width(), img.height(), img.argb(), model, size[0], size[1], t);
      StringBuilder sb = new StringBuilder("run " + r + ": " + png.length + " bytes");
      for (int s = 0; s < t.length; s++) {
        sb.append(' ').append(PostPipeline.STAGES[s]).append('=').append(t[s] / 1_000_000);
      }
      System.out.println(sb);
    }
  }
}
