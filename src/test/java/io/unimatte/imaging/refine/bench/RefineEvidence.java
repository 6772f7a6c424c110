package io.unimatte.imaging.refine.bench;

import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.ImageDecoder;
import io.unimatte.imaging.MatteConfidence;
import io.unimatte.imaging.refine.AppearanceModel;
import io.unimatte.imaging.refine.EdgeRefiner;
import io.unimatte.imaging.refine.MatteRefiner;
import io.unimatte.imaging.refine.RefineOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Evidence sweep (a main, not a test) behind the hold-back rule of {@link AppearanceModel} (issue 23):
 * how the colour step does as the model's confident pixels get fewer. For each matting-dev photo, the
 * saved ISNet matte is degraded so that only a fraction of its confident foreground (or background)
 * stays confident; the rest is demoted into the uncertain range, as when the model finds no subject.
 * The kept pixels are either one compact patch (a biased sample of the subject's colours, like the
 * few pixels a model is sure of when it found nothing) or scattered at random (a fair sample). Each
 * row prints the evidence (smaller confident side per uncertain pixel), the weight the rule gives it,
 * and SAD against the truth of: edge filter only, colour step trusted in full, and the rule (both
 * followed by the edge filter, as {@link MatteRefiner} does).
 *
 * <pre>
 * RefineEvidence                    -Dunimatte.mattes=DIR (default bench/out/quality-isnet-plain)
 * </pre>
 * -Dunimatte.data moves matting-dev.
 */
public final class RefineEvidence {

  private static final Path DATA = Path.of(System.getProperty("unimatte.data", "../shared/testdata/matting-dev"));
  private static final Path MATTES = Path.of(System.getProperty("unimatte.mattes", "bench/out/quality-isnet-plain"));
  /** Shares of the confident side kept confident. */
  private static final double[] KEEP = {0, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1};
  /** A demoted confident pixel keeps this much of its distance from the other side (0.95 → about 0.71). */
  private static final double DEMOTE = 0.75;
  private static final int CONFIDENT_FG = MatteConfidence.CONFIDENT_FG;
  private static final int CONFIDENT_BG = MatteConfidence.CONFIDENT_BG;
  private static final long SEED = 23;
  private static final double SAD_SCALE = 255.0 * 1000.0;

  private RefineEvidence() {
  }

  record Sample(String name, DecodedImage photo, byte[] alpha, byte[] truth) {
  }

  public static void main(String[] args) throws Exception {
    List<Sample> samples = load();
    RefineOptions edgeOnly = new RefineOptions(RefineOptions.DEFAULT_BAND_RADIUS, RefineOptions.DEFAULT_RADIUS,
        RefineOptions.DEFAULT_EPS, RefineOptions.DEFAULT_STRENGTH, 0);
    System.out.printf("%-5s %-8s %-5s %8s %10s %8s %6s %9s %9s %9s %7s%n", "side", "sample", "file", "keep",
        "evidence", "weight", "score", "edgeOnly", "trusted", "rule", "rule/eo");
    for (boolean foreground : new boolean[] {true, false}) {
      for (boolean patch : new boolean[] {true, false}) {
        for (double keep : KEEP) {
          double sumEdge = 0;
          double sumTrusted = 0;
          double sumRule = 0;
          for (Sample s : samples) {
            byte[] a = degrade(s, foreground, patch, keep);
            long[] c = counts(a);
            double ev = (double) Math.min(c[0], c[1]) / Math.max(1, c[2]);
            double w = AppearanceModel.evidenceWeight(c[0], c[1], c[2]);
            double edge = sad(EdgeRefiner.refine(s.photo(), a, edgeOnly), s.truth());
            double trusted = sad(EdgeRefiner.refine(s.photo(), AppearanceModel.apply(s.photo(), a, 1, false),
                edgeOnly), s.truth());
            double rule = sad(MatteRefiner.refine(s.photo(), a, RefineOptions.DEFAULTS), s.truth());
            double score = MatteConfidence.of(a, s.photo().width(), s.photo().height()).score();
            sumEdge += edge;
            sumTrusted += trusted;
            sumRule += rule;
            System.out.printf("%-5s %-8s %-5s %8.4f %10.5f %8.3f %6.3f %9.2f %9.2f %9.2f %7.3f%n",
                foreground ? "fg" : "bg", patch ? "patch" : "scatter", s.name().replace(".png", ""), keep, ev, w,
                score, edge, trusted, rule, rule / edge);
          }
          int n = samples.size();
          System.out.printf("%-5s %-8s %-5s %8.4f %10s %8s %6s %9.2f %9.2f %9.2f %7.3f%n", foreground ? "fg" : "bg",
              patch ? "patch" : "scatter", "MEAN", keep, "", "", "", sumEdge / n, sumTrusted / n, sumRule / n,
              sumRule / sumEdge);
        }
      }
    }
  }

  /**
   * The matte with only {@code keep} of its confident pixels on one side left confident: a patch of the
   * confident pixels nearest the side's centroid, or a random choice; the rest demoted towards 0.5.
   */
  static byte[] degrade(Sample s, boolean foreground, boolean patch, double keep) {
    byte[] a = s.alpha().clone();
    int w = s.photo().width();
    int[] side = confident(a, foreground);
    int k = (int) Math.round(keep * side.length);
    int[] order = patch ? byDistanceToCentroid(side, w) : shuffled(side);
    for (int j = k; j < order.length; j++) {
      int i = order[j];
      int v = a[i] & 0xFF;
      int demoted = foreground ? (int) Math.round(v * DEMOTE) : 255 - (int) Math.round((255 - v) * DEMOTE);
      a[i] = (byte) demoted;
    }
    return a;
  }

  private static int[] confident(byte[] a, boolean foreground) {
    int n = 0;
    int[] idx = new int[a.length];
    for (int i = 0; i < a.length; i++) {
      int v = a[i] & 0xFF;
      if (foreground ? v >= CONFIDENT_FG : v <= CONFIDENT_BG) {
        idx[n++] = i;
      }
    }
    return Arrays.copyOf(idx, n);
  }

  private static int[] byDistanceToCentroid(int[] idx, int w) {
    double cx = 0;
    double cy = 0;
    for (int i : idx) {
      cx += i % w;
      cy += i / w;
    }
    double mx = cx / Math.max(1, idx.length);
    double my = cy / Math.max(1, idx.length);
    return Arrays.stream(idx).boxed()
        .sorted((p, q) -> Double.compare(Math.hypot(p % w - mx, p / w - my), Math.hypot(q % w - mx, q / w - my)))
        .mapToInt(Integer::intValue).toArray();
  }

  private static int[] shuffled(int[] idx) {
    int[] o = idx.clone();
    java.util.Random r = new java.util.Random(SEED);
    for (int i = o.length - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      int t = o[i];
      o[i] = o[j];
      o[j] = t;
    }
    return o;
  }

  /** {confident fg, confident bg, the rest}, with the thresholds {@link AppearanceModel} shares. */
  private static long[] counts(byte[] a) {
    long f = 0;
    long b = 0;
    for (byte x : a) {
      int v = x & 0xFF;
      f += v >= CONFIDENT_FG ? 1 : 0;
      b += v <= CONFIDENT_BG ? 1 : 0;
    }
    return new long[] {f, b, a.length - f - b};
  }

  /** matte_eval's SAD: sum |pred − truth| on 0..1, / 1000. */
  static double sad(byte[] pred, byte[] truth) {
    long sum = 0;
    for (int i = 0; i < pred.length; i++) {
      sum += Math.abs((pred[i] & 0xFF) - (truth[i] & 0xFF));
    }
    return sum / SAD_SCALE;
  }

  static List<Sample> load() throws Exception {
    ImageDecoder dec = new ImageDecoder();
    List<Sample> out = new ArrayList<>();
    try (var files = Files.list(DATA.resolve("image"))) {
      for (Path f : files.sorted().toList()) {
        String name = f.getFileName().toString();
        out.add(new Sample(name, dec.decode(Files.readAllBytes(f)),
            RefineQuality.grey(dec.decode(Files.readAllBytes(MATTES.resolve(name)))),
            RefineQuality.grey(dec.decode(Files.readAllBytes(DATA.resolve("alpha").resolve(name))))));
      }
    }
    return out;
  }
}
