package io.unimatte.imaging;

import java.util.Locale;

/**
 * How sure the matting model was of one image, read from its own (unrefined) matte in one pass, so
 * that doubtful cutouts can be flagged for a human to check (issue 23).
 *
 * <p>The score is the share of the subject the model is sure of, {@code fg / (fg + uncertain)}
 * (confident foreground α ≥ 0.95 against the pixels it left between 0.05 and 0.95), times a presence
 * factor that falls linearly to 0 when the confident foreground covers less than
 * {@value #MIN_SUBJECT_SHARE} of the image. A clean cutout scores near 1 (only its rim is soft); a model
 * that found no subject, or left the subject grey, scores near 0. On matting-dev it ranks the images
 * by their error (docs/PERFORMANCE.md, "Matte quality").
 *
 * @param score           0..1 in steps of 0.001, higher is surer; compare with {@link #review(double)}
 * @param uncertainShare  share of all pixels with 0.05 &lt; α &lt; 0.95
 * @param foregroundShare share of all pixels with α ≥ 0.95
 * @param subjectFound    whether the confident foreground covers at least {@value #MIN_SUBJECT_SHARE} of
 *                        the image
 */
public record MatteConfidence(double score, double uncertainShare, double foregroundShare, boolean subjectFound) {

  /** Alpha (of 255) at or above which the model is sure a pixel is subject (0.95). */
  public static final int CONFIDENT_FG = 242;
  /** Alpha (of 255) at or below which the model is sure a pixel is background (0.05). */
  public static final int CONFIDENT_BG = 13;
  /**
   * Confident foreground share of the image below which no subject counts as found. Between the
   * ≈ 0.1 % of the photos where ISNet found nothing and the ≥ 1 % of those where it did (issue 23).
   */
  public static final double MIN_SUBJECT_SHARE = 0.005;
  /** The shipped {@code imaging.reviewThreshold}, for callers without a configuration (tests, tools). */
  public static final double DEFAULT_REVIEW_THRESHOLD = 0.5;
  private static final int LEVELS = 256;
  /** The score is kept to the header's three decimals, so that header, JSON and review flag agree. */
  private static final double SCORE_STEPS = 1000;

  public MatteConfidence {
    if (!(score >= 0 && score <= 1) || !(uncertainShare >= 0 && uncertainShare <= 1)
        || !(foregroundShare >= 0 && foregroundShare <= 1)) {
      throw new IllegalArgumentException("confidence values must be in [0, 1]: score=" + score
          + ", uncertainShare=" + uncertainShare + ", foregroundShare=" + foregroundShare);
    }
  }

  /** The confidence of the model's matte {@code alpha} (row-major, one byte per pixel, 0..255). */
  public static MatteConfidence of(byte[] alpha, int width, int height) {
    if (alpha == null || width <= 0 || height <= 0 || alpha.length != (long) width * height) {
      throw new IllegalArgumentException("alpha has " + (alpha == null ? "no" : alpha.length) + " values for a "
          + width + "x" + height + " matte");
    }
    // One pass into a histogram of alpha values; the shares are sums over it.
    int[] hist = new int[LEVELS];
    for (byte a : alpha) {
      hist[a & 0xFF]++;
    }
    long fg = 0;
    long bg = 0;
    for (int v = 0; v < LEVELS; v++) {
      if (v >= CONFIDENT_FG) {
        fg += hist[v];
      } else if (v <= CONFIDENT_BG) {
        bg += hist[v];
      }
    }
    double n = alpha.length;
    long uncertain = alpha.length - fg - bg;
    double foregroundShare = fg / n;
    double sure = fg + uncertain == 0 ? 0 : (double) fg / (fg + uncertain);
    double presence = Math.min(1, foregroundShare / MIN_SUBJECT_SHARE);
    double score = Math.round(sure * presence * SCORE_STEPS) / SCORE_STEPS;
    return new MatteConfidence(score, uncertain / n, foregroundShare, foregroundShare >= MIN_SUBJECT_SHARE);
  }

  /** Whether a person should check this cutout: the score is below {@code threshold} ({@code imaging.reviewThreshold}). */
  public boolean review(double threshold) {
    return score < threshold;
  }

  /** The score with three decimals and a dot, e.g. {@code 0.873}: the {@code X-Matte-Confidence} header's value. */
  public String headerValue() {
    return String.format(Locale.ROOT, "%.3f", score);
  }
}
