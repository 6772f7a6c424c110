package io.unimatte.imaging.bench;

import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.ImageDecoder;
import io.unimatte.imaging.MatteConfidence;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How well {@link MatteConfidence} ranks cutouts by their error (a main, not a test; issue 23). Reads
 * the model's plain mattes and one or more {@code matte_eval.py --csv} score files of the same images,
 * prints per image the confidence and each file's SAD, Spearman's ρ between score and SAD, and for a
 * range of review thresholds how many bad cutouts are flagged and how many good ones are flagged too.
 *
 * <pre>
 * ConfidenceQuality PLAIN_MATTES_DIR LABEL=SCORES.csv [LABEL=SCORES.csv ...]
 * </pre>
 * A cutout counts as bad when its mean absolute alpha error (SAD·1000 / pixels) is at least
 * {@value #BAD_MEAN_ERROR}, in the first score file (the one users get: put the refined output first).
 */
public final class ConfidenceQuality {

  /** Mean |α − truth| over the image from which a cutout counts as bad (5 % of the image entirely wrong). */
  static final double BAD_MEAN_ERROR = 0.05;
  private static final double SAD_UNIT = 1000;
  private static final double[] THRESHOLDS = {0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95};

  private ConfidenceQuality() {
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: ConfidenceQuality PLAIN_MATTES_DIR LABEL=SCORES.csv [LABEL=SCORES.csv ...]");
      System.exit(2);
    }
    Path mattes = Path.of(args[0]);
    Map<String, Map<String, Double>> sads = new LinkedHashMap<>();
    for (String a : Arrays.asList(args).subList(1, args.length)) {
      sads.put(a.substring(0, a.indexOf('=')), readSad(Path.of(a.substring(a.indexOf('=') + 1))));
    }
    ImageDecoder dec = new ImageDecoder();
    List<String> names = new ArrayList<>(sads.values().iterator().next().keySet());
    double[] scores = new double[names.size()];
    double[] pixels = new double[names.size()];
    System.out.printf("%-10s %7s %10s %10s %8s %7s", "file", "score", "uncertain", "confFg", "subject", "review");
    sads.keySet().forEach(l -> System.out.printf(" %14s", "SAD " + l));
    System.out.println();
    for (int i = 0; i < names.size(); i++) {
      DecodedImage m = dec.decode(Files.readAllBytes(mattes.resolve(names.get(i))));
      MatteConfidence c = MatteConfidence.of(grey(m), m.width(), m.height());
      scores[i] = c.score();
      pixels[i] = m.pixelCount();
      System.out.printf("%-10s %7s %10.4f %10.4f %8s %7s", names.get(i), c.headerValue(), c.uncertainShare(),
          c.foregroundShare(), c.subjectFound(), c.review(MatteConfidence.DEFAULT_REVIEW_THRESHOLD));
      for (Map<String, Double> s : sads.values()) {
        System.out.printf(" %14.2f", s.get(names.get(i)));
      }
      System.out.println();
    }
    for (var e : sads.entrySet()) {
      double[] sad = names.stream().mapToDouble(e.getValue()::get).toArray();
      double[] perPixel = new double[sad.length];
      for (int i = 0; i < sad.length; i++) {
        perPixel[i] = sad[i] * SAD_UNIT / pixels[i];
      }
      System.out.printf("Spearman rho(score, SAD %s) = %.3f; per pixel: %.3f%n", e.getKey(), spearman(scores, sad),
          spearman(scores, perPixel));
    }
    Map<String, Double> users = sads.values().iterator().next();
    boolean[] bad = new boolean[names.size()];
    int nBad = 0;
    for (int i = 0; i < bad.length; i++) {
      bad[i] = users.get(names.get(i)) * SAD_UNIT / pixels[i] >= BAD_MEAN_ERROR;
      nBad += bad[i] ? 1 : 0;
    }
    System.out.printf("review threshold: bad cutouts (mean error >= %.2f, %s) flagged / false alarms (of %d good)%n",
        BAD_MEAN_ERROR, sads.keySet().iterator().next(), names.size() - nBad);
    for (double t : THRESHOLDS) {
      int caught = 0;
      int alarms = 0;
      for (int i = 0; i < bad.length; i++) {
        if (scores[i] < t) {
          caught += bad[i] ? 1 : 0;
          alarms += bad[i] ? 0 : 1;
        }
      }
      System.out.printf("  < %.2f: %d of %d bad, %d false alarms%n", t, caught, nBad, alarms);
    }
  }

  /** Spearman's ρ: Pearson's correlation of the ranks (ties get their mean rank). */
  static double spearman(double[] x, double[] y) {
    double[] rx = ranks(x);
    double[] ry = ranks(y);
    double mx = Arrays.stream(rx).average().orElse(0);
    double my = Arrays.stream(ry).average().orElse(0);
    double sxy = 0;
    double sxx = 0;
    double syy = 0;
    for (int i = 0; i < x.length; i++) {
      sxy += (rx[i] - mx) * (ry[i] - my);
      sxx += (rx[i] - mx) * (rx[i] - mx);
      syy += (ry[i] - my) * (ry[i] - my);
    }
    return sxy / Math.sqrt(sxx * syy);
  }

  private static double[] ranks(double[] v) {
    Integer[] idx = new Integer[v.length];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = i;
    }
    Arrays.sort(idx, (a, b) -> Double.compare(v[a], v[b]));
    double[] r = new double[v.length];
    for (int i = 0; i < idx.length; ) {
      int j = i;
      while (j + 1 < idx.length && v[idx[j + 1]] == v[idx[i]]) {
        j++;
      }
      for (int k = i; k <= j; k++) {
        r[idx[k]] = (i + j) / 2.0 + 1;
      }
      i = j + 1;
    }
    return r;
  }

  private static Map<String, Double> readSad(Path csv) throws Exception {
    Map<String, Double> out = new LinkedHashMap<>();
    List<String> lines = Files.readAllLines(csv);
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",");
      out.put(f[0], Double.parseDouble(f[1]));
    }
    return out;
  }

  /** A grey PNG decodes to R = G = B: take one channel. */
  private static byte[] grey(DecodedImage img) {
    int[] p = img.argb();
    byte[] a = new byte[p.length];
    for (int i = 0; i < a.length; i++) {
      a[i] = (byte) p[i];
    }
    return a;
  }
}
