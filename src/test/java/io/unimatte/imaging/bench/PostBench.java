package io.unimatte.imaging.bench;

import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.ImageDecoder;
import java.io.File;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * Before/after benchmark of the full-resolution post-processing (not a test): the same photos and
 * ISNet mattes through two builds of the imaging code in one JVM, interleaved A/B/A/B so that a
 * busy machine slows both alike. Each build is a folder of compiled main classes; {@link PostPipeline}
 * is loaded once per build. Prints per image and stage the median of each build and the ratio B/A,
 * and the largest alpha and colour difference between their PNGs. Usage:
 * <pre>
 * PostBench A_CLASSES B_CLASSES PHOTO_DIR MATTE_DIR [ROUNDS] [LIMIT]
 * </pre>
 * with photos made by {@link RealSizePhotos} and their mattes by {@link MatteDump}; the classpath
 * must hold the test classes and the dependencies. {@code -Dunimatte.split=true} also times colour
 * estimation and encoding one by one.
 */
public final class PostBench {

  private PostBench() {
  }

  private record Build(String name, Method run, Method render, Method refined) {
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      System.err.println("usage: PostBench A_CLASSES B_CLASSES PHOTO_DIR MATTE_DIR [ROUNDS] [LIMIT]");
      System.exit(2);
    }
    int rounds = args.length > 4 ? Integer.parseInt(args[4]) : 5;
    int limit = args.length > 5 ? Integer.parseInt(args[5]) : Integer.MAX_VALUE;
    boolean split = Boolean.getBoolean("unimatte.split");
    Build[] builds = {load("A", args[0]), load("B", args[1])};
    List<Path> photos;
    try (Stream<Path> files = Files.list(Path.of(args[2]))) {
      photos = files.filter(p -> p.toString().endsWith(".jpg")).sorted().limit(limit).toList();
    }
    ImageDecoder decoder = new ImageDecoder(new io.unimatte.imaging.ImageLimits(200L << 20, 60_000_000L, 1000));
    String[] stages = PostPipeline.STAGES;
    String[] renderStages = PostPipeline.RENDER_STAGES;
    List<double[]> ratios = new ArrayList<>();
    double[][] totals = new double[2][photos.size()];
    System.out.printf("JVM %s, %d cores, load %s; %d rounds A/B interleaved after 1 warm-up each%n",
        System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(), loadavg(), rounds);
    int idx = 0;
    for (Path photo : photos) {
      DecodedImage img = decoder.decode(Files.readAllBytes(photo));
      int[] size = new int[2];
      float[] model = MatteDump.read(Path.of(args[3]).resolve(photo.getFileName() + ".f32"), size);
      int w = img.width();
      int h = img.height();
      long[][][] ns = new long[2][rounds][stages.length];
      long[][][] rs = new long[2][rounds][renderStages.length];
      byte[][] png = new byte[2][];
      for (int r = -1; r < rounds; r++) {
        for (int b = 0; b < 2; b++) {
          // alternate which build goes first, so neither always follows the other's garbage
          int k = (r & 1) == 0 ? b : 1 - b;
          long[] t = new long[stages.length];
          png[k] = (byte[]) builds[k].run.invoke(null, w, h, img.argb(), model, size[0], size[1], t);
          if (r >= 0) {
            ns[k][r] = t;
          }
        }
      }
      if (split) {
        byte[][] refined = new byte[2][];
        for (int b = 0; b < 2; b++) {
          refined[b] = (byte[]) builds[b].refined.invoke(null, w, h, img.argb(), model, size[0], size[1]);
        }
        for (int r = -1; r < rounds; r++) {
          for (int b = 0; b < 2; b++) {
            int k = (r & 1) == 0 ? b : 1 - b;
            long[] t = new long[renderStages.length];
            builds[k].render.invoke(null, w, h, img.argb(), refined[k], t);
            if (r >= 0) {
              rs[k][r] = t;
            }
          }
        }
      }
      StringBuilder line = new StringBuilder(String.format("%-22s %dx%d", photo.getFileName(), w, h));
      double[] ratio = new double[stages.length + 1];
      for (int s = 0; s < stages.length; s++) {
        double a = median(ns[0], s);
        double bb = median(ns[1], s);
        ratio[s] = bb / a;
        line.append(String.format("  %s %.0f→%.0f", stages[s], a, bb));
      }
      double ta = medianTotal(ns[0]);
      double tb = medianTotal(ns[1]);
      totals[0][idx] = ta;
      totals[1][idx] = tb;
      ratio[stages.length] = tb / ta;
      ratios.add(ratio);
      line.append(String.format("  total %.0f→%.0f ms (×%.2f)", ta, tb, tb / ta));
      if (split) {
        for (int s = 0; s < renderStages.length; s++) {
          line.append(String.format("  [%s %.0f→%.0f]", renderStages[s], median(rs[0], s), median(rs[1], s)));
        }
      }
      int[] diff = compare(decoder, png[0], png[1]);
      line.append(String.format("  bytes %d→%d  max|Δα| %d  max|ΔRGB| (α>0) %d  visible α·|ΔRGB| max %d mean %.3f",
          png[0].length, png[1].length, diff[0], diff[1], diff[2], diff[3] / 1000.0));
      System.out.println(line);
      idx++;
    }
    StringBuilder sum = new StringBuilder("median over images: ");
    for (int s = 0; s <= stages.length; s++) {
      double[] v = ratios.stream().mapToDouble(r -> r[0]).toArray();
      final int si = s;
      v = ratios.stream().mapToDouble(r -> r[si]).toArray();
      sum.append(String.format("%s ×%.2f  ", s < stages.length ? stages[s] : "total", median(v)));
    }
    sum.append(String.format("  total A %.0f ms, B %.0f ms", median(totals[0]), median(totals[1])));
    System.out.println(sum);
  }

  private static String loadavg() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (Exception e) {
      return "?";
    }
  }

  /**
   * [max |Δα|, max |ΔRGB| where either α &gt; 0, max and 1000 × mean over the soft pixels of the visible
   * difference α·|ΔRGB|/255 (what changes when the cutout is composited over any background)].
   */
  private static int[] compare(ImageDecoder decoder, byte[] a, byte[] b) throws Exception {
    int[] pa = decoder.decode(a).argb();
    int[] pb = decoder.decode(b).argb();
    int da = 0;
    int dc = 0;
    double dv = 0;
    double sum = 0;
    long soft = 0;
    for (int i = 0; i < pa.length; i++) {
      int x = pa[i];
      int y = pb[i];
      da = Math.max(da, Math.abs((x >>> 24) - (y >>> 24)));
      if ((x >>> 24) > 0 || (y >>> 24) > 0) {
        int ax = x >>> 24;
        for (int s = 0; s < 24; s += 8) {
          int d = Math.abs(((x >> s) & 0xFF) - ((y >> s) & 0xFF));
          dc = Math.max(dc, d);
          dv = Math.max(dv, ax * d / 255.0);
          if (ax < 255) {
            sum += ax * d / 255.0;
          }
        }
        if (ax < 255) {
          soft += 3;
        }
      }
    }
    return new int[] {da, dc, (int) Math.round(dv), soft == 0 ? 0 : (int) Math.round(1000 * sum / soft)};
  }

  private static double median(long[][] runs, int stage) {
    double[] v = new double[runs.length];
    for (int r = 0; r < runs.length; r++) {
      v[r] = runs[r][stage] / 1e6;
    }
    return median(v);
  }

  private static double medianTotal(long[][] runs) {
    double[] v = new double[runs.length];
    for (int r = 0; r < runs.length; r++) {
      v[r] = Arrays.stream(runs[r]).sum() / 1e6;
    }
    return median(v);
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    int n = s.length;
    return n == 0 ? Double.NaN : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }

  /** PostPipeline in a class loader of its own that sees {@code classes} instead of this JVM's main classes. */
  private static Build load(String name, String classes) throws Exception {
    List<URL> urls = new ArrayList<>();
    urls.add(Path.of(classes).toUri().toURL());
    for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (e.endsWith(".jar") || e.contains("test-classes")) {
        urls.add(Path.of(e).toUri().toURL());
      }
    }
    ClassLoader cl = new URLClassLoader(name, urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
    Class<?> c = cl.loadClass(PostPipeline.class.getName());
    return new Build(name,
        c.getMethod("run", int.class, int.class, int[].class, float[].class, int.class, int.class, long[].class),
        c.getMethod("render", int.class, int.class, int[].class, byte[].class, long[].class),
        c.getMethod("refined", int.class, int.class, int[].class, float[].class, int.class, int.class));
  }
}
