package io.unimatte.imaging.refine.bench;

import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.ImageDecoder;
import io.unimatte.imaging.PngEncoder;
import io.unimatte.imaging.refine.MatteRefiner;
import io.unimatte.imaging.refine.RefineOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Quality experiment (a main, not a test): refines our ISNet mattes of the matting-dev set with
 * {@link MatteRefiner} and scores plain vs refined with the shared {@code matte_eval.py}.
 *
 * <pre>
 * RefineQuality                              defaults, full tables (with connectivity)
 * RefineQuality BAND RADIUS EPS STRENGTH APPEARANCE   those options, full tables
 * RefineQuality --sweep                      grid search; mean SAD/Grad and worst per-image ratio
 * </pre>
 * Paths can be moved with -Dunimatte.data=..., -Dunimatte.mattes=..., -Dunimatte.eval=..., -Dunimatte.python=...
 * The sweep's per-image limit compares with the plain matte, or with -Dunimatte.reference=CSV (a
 * matte_eval --csv of the reference, e.g. bench/out/quality-peer.csv) when given.
 */
public final class RefineQuality {

  private static final Path DATA = Path.of(System.getProperty("unimatte.data", "../shared/testdata/matting-dev"));
  private static final Path MATTES = Path.of(System.getProperty("unimatte.mattes", "bench/out/quality-isnet"));
  private static final String EVAL = System.getProperty("unimatte.eval", "../shared/tools/matte_eval.py");
  private static final String PYTHON = System.getProperty("unimatte.python", "/usr/bin/python3");
  private static final String REFERENCE = System.getProperty("unimatte.reference");
  /** A config is rejected when any image gets more than this much worse than the plain matte. */
  private static final double MAX_WORSE = 1.10;

  private RefineQuality() {
  }

  record Sample(String name, DecodedImage photo, byte[] alpha) {
  }

  public static void main(String[] args) throws Exception {
    List<Sample> samples = load();
    Path plainDir = Files.createTempDirectory("refine-plain");
    for (Sample s : samples) {
      write(plainDir, s.name(), s.photo(), s.alpha());
    }
    if (args.length == 1 && args[0].equals("--sweep")) {
      sweep(samples, plainDir);
      return;
    }
    RefineOptions opts = args.length == 5
        ? new RefineOptions(Integer.parseInt(args[0]), Integer.parseInt(args[1]),
            Double.parseDouble(args[2]), Double.parseDouble(args[3]), Double.parseDouble(args[4]))
        : RefineOptions.DEFAULTS;
    Path refDir = refineAll(samples, opts);
    System.out.println("== plain ISNet matte (" + plainDir + ")");
    System.out.print(eval(plainDir, null, false));
    System.out.println("== refined " + opts + " (" + refDir + ")");
    System.out.print(eval(refDir, null, false));
  }

  private static void sweep(List<Sample> samples, Path plainDir) throws Exception {
    Map<String, double[]> plain = REFERENCE != null ? readCsv(Path.of(REFERENCE)) : scores(plainDir);
    int[] bands = {0, 8};
    int[] radii = {4, 8, 16};
    double[] epss = {1e-3, 1e-2};
    double[] appearances = {0, 1.0};
    System.out.printf("%-70s %8s %8s %8s %8s %s%n", "options", "SAD", "Grad", "maxSAD%", "maxGrad%", "ok");
    System.out.printf("%-70s %8.3f %8.3f%n", "plain", mean(plain, 0), mean(plain, 1));
    for (int band : bands) {
      for (int r : radii) {
        for (double eps : epss) {
          for (double ap : appearances) {
            RefineOptions o = new RefineOptions(band, r, eps, 1.0, ap);
            Map<String, double[]> sc = scores(refineAll(samples, o));
            double worstSad = 0;
            double worstGrad = 0;
            for (var e : sc.entrySet()) {
              double[] p = plain.get(e.getKey());
              worstSad = Math.max(worstSad, e.getValue()[0] / p[0]);
              worstGrad = Math.max(worstGrad, e.getValue()[1] / p[1]);
            }
            boolean ok = worstSad <= MAX_WORSE && worstGrad <= MAX_WORSE;
            System.out.printf("%-70s %8.3f %8.3f %8.1f %8.1f %s%n", o, mean(sc, 0), mean(sc, 1),
                100 * (worstSad - 1), 100 * (worstGrad - 1), ok ? "ok" : "REJECT");
          }
        }
      }
    }
  }

  private static double mean(Map<String, double[]> m, int col) {
    return m.values().stream().mapToDouble(v -> v[col]).average().orElse(Double.NaN);
  }

  /** file → {SAD, Grad}, from the evaluator's CSV (connectivity skipped: it is slow). */
  private static Map<String, double[]> scores(Path dir) throws Exception {
    Path csv = Files.createTempFile("refine-eval", ".csv");
    eval(dir, csv, true);
    Map<String, double[]> out = readCsv(csv);
    Files.delete(csv);
    return out;
  }

  private static Map<String, double[]> readCsv(Path csv) throws IOException {
    Map<String, double[]> out = new LinkedHashMap<>();
    List<String> lines = Files.readAllLines(csv);
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",");
      out.put(f[0], new double[] {Double.parseDouble(f[1]), Double.parseDouble(f[3])});
    }
    return out;
  }

  private static Path refineAll(List<Sample> samples, RefineOptions opts) throws IOException {
    Path dir = Files.createTempDirectory("refine-out");
    for (Sample s : samples) {
      write(dir, s.name(), s.photo(), MatteRefiner.refine(s.photo(), s.alpha(), opts));
    }
    return dir;
  }

  private static String eval(Path dir, Path csv, boolean noConn) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(PYTHON, EVAL, dir.toString(), DATA.resolve("alpha").toString()));
    if (csv != null) {
      cmd.add("--csv");
      cmd.add(csv.toString());
    }
    if (noConn) {
      cmd.add("--no-conn");
    }
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException("matte_eval failed: " + text);
    }
    return text;
  }

  private static void write(Path dir, String name, DecodedImage photo, byte[] alpha) throws IOException {
    Files.write(dir.resolve(name), new PngEncoder().encodeGray(photo.width(), photo.height(), alpha));
  }

  static List<Sample> load() throws Exception {
    ImageDecoder dec = new ImageDecoder();
    List<Sample> out = new ArrayList<>();
    try (var files = Files.list(DATA.resolve("image"))) {
      for (Path f : files.sorted().toList()) {
        String name = f.getFileName().toString();
        DecodedImage photo = dec.decode(Files.readAllBytes(f));
        out.add(new Sample(name, photo, grey(dec.decode(Files.readAllBytes(MATTES.resolve(name))))));
      }
    }
    return out;
  }

  /** A grey PNG decodes to R = G = B: take one channel. */
  static byte[] grey(DecodedImage img) {
    int[] p = img.argb();
    byte[] a = new byte[p.length];
    for (int i = 0; i < a.length; i++) {
      a[i] = (byte) p[i];
    }
    return a;
  }
}
