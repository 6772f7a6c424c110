package io.unimatte.imaging.refine;

import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.Parallel;
import io.unimatte.imaging.MatteConfidence;
import java.util.Objects;
import java.util.logging.Logger;

/**
 * Re-decides the pixels a matting model was unsure about from the photo's own colours. A colour
 * histogram (5 bits per channel) is learnt from the pixels the model is confident about, one for the
 * foreground ({@code α ≥ 242}) and one for the background ({@code α ≤ 13}); an uncertain pixel's alpha
 * then moves towards the colour's foreground posterior {@code P(F | colour)}, the more the less sure
 * the model was: {@code α' = α + s·√(4α(1−α))·(P' − α)}, where {@code P' = e·P + (1−e)·α} trusts the
 * colour in proportion to its evidence {@code e = n / (n + 4)} ({@code n} confident pixels of that colour).
 *
 * <p>Why: salient-object models such as ISNet leave whole regions grey (a plant's shaded leaves at 0.6,
 * a second subject's hair at 0.2) although the same colours appear, confidently classified, elsewhere in
 * the photo. An edge filter cannot fix those: they are tens of pixels wide. A colour seen only a few
 * times (noise, a highlight) barely moves a pixel; one seen on neither side keeps the model's value.
 *
 * <p>It holds back without evidence (issue 23): when the model found almost no confident foreground
 * (or background), the few pixels it is sure of are no sample of the subject's colours, and learning
 * from them pushes the whole uncertain area to the other side. The move is therefore scaled by
 * {@link #evidenceWeight}, which compares the smaller confident side with the uncertain area: 0 (the
 * model's matte is kept) up to {@value #EVIDENCE_NONE} confident pixels per uncertain one, 1 from
 * {@value #EVIDENCE_FULL}, linear between.
 * Linear in the pixel count; stateless and thread-safe.
 */
public final class AppearanceModel {

  private static final Logger LOG = Logger.getLogger(AppearanceModel.class.getName());

  /** Model alpha at or above this (of 255) counts as confident foreground (0.95). */
  static final int CONFIDENT_FG = MatteConfidence.CONFIDENT_FG;
  /** Model alpha at or below this counts as confident background (0.05). */
  static final int CONFIDENT_BG = MatteConfidence.CONFIDENT_BG;
  /** Only pixels strictly between these are changed (0.02 and 0.98): near-hard pixels are left alone. */
  static final int UNCERTAIN_LOW = 5;
  static final int UNCERTAIN_HIGH = 250;
  /** Bits per colour channel (32³ bins); on matting-dev this step alone scores SAD 23.0, with 16³ bins 25.5. */
  private static final int BITS = 5;
  private static final int SHIFT = 8 - BITS;
  private static final int BINS = 1 << (3 * BITS);
  private static final int MASK = (1 << BITS) - 1;
  private static final float INV_255 = 1f / 255f;
  /** Fewest pixels per part when a pass is split over cores. */
  private static final int MIN_PIXELS_PER_PART = 1 << 18;
  /** Pseudo-count of the model's own opinion: a bin needs this many confident pixels to count half. */
  private static final float PRIOR_COUNT = 4f;
  /**
   * Confident pixels of the smaller side per uncertain pixel at or below which the step does nothing:
   * above the 0.002–0.003 of the photos it made worse (issue 23); checked with {@code RefineEvidence}
   * (docs/PERFORMANCE.md, "Matte quality").
   */
  static final double EVIDENCE_NONE = 0.005;
  /** From this ratio the step acts in full: below the ≥ 0.027 of the photos it helped most (issue 23). */
  static final double EVIDENCE_FULL = 0.02;

  private AppearanceModel() {
  }

  /**
   * The re-decided matte (a new array); {@code strength} in [0, 1] scales the move (0 returns a copy),
   * and so does the evidence the confident pixels give ({@link #evidenceWeight}).
   */
  public static byte[] apply(DecodedImage img, byte[] alpha, double strength) {
    return apply(img, alpha, strength, true);
  }

  /**
   * As {@link #apply(DecodedImage, byte[], double)}; {@code holdBack} false trusts any confident pixels
   * however few (the behaviour before issue 23, kept for measurements and tests).
   */
  public static byte[] apply(DecodedImage img, byte[] alpha, double strength, boolean holdBack) {
    Objects.requireNonNull(img, "img").checkMatte(alpha);
    if (!(strength >= 0 && strength <= 1)) {
      throw new IllegalArgumentException("strength must be in [0, 1], got " + strength);
    }
    byte[] out = alpha.clone();
    if (strength == 0) {
      return out;
    }
    int[] argb = img.argb();
    // Histograms of the confident pixels; a split pass counts into its own and they are added up.
    int parts = Parallel.partsFor(argb.length, MIN_PIXELS_PER_PART);
    int[][] fgs = new int[parts][];
    int[][] bgs = new int[parts][];
    long[] sides = new long[2 * parts];
    boolean[] uncertainSeen = new boolean[parts];
    Parallel.forRange(parts, 1, (p0, p1) -> {
      for (int part = p0; part < p1; part++) {
        int from = (int) ((long) argb.length * part / parts);
        int to = (int) ((long) argb.length * (part + 1) / parts);
        int[] f = new int[BINS];
        int[] b = new int[BINS];
        long cf = 0;
        long cb = 0;
        boolean any = false;
        for (int i = from; i < to; i++) {
          int a = alpha[i] & 0xFF;
          if (a >= CONFIDENT_FG) {
            f[bin(argb[i])]++;
            cf++;
          } else if (a <= CONFIDENT_BG) {
            b[bin(argb[i])]++;
            cb++;
          }
          any |= a > UNCERTAIN_LOW && a < UNCERTAIN_HIGH;
        }
        fgs[part] = f;
        bgs[part] = b;
        sides[2 * part] = cf;
        sides[2 * part + 1] = cb;
        uncertainSeen[part] = any;
      }
    });
    int[] fg = fgs[0];
    int[] bg = bgs[0];
    long nf = sides[0];
    long nb = sides[1];
    boolean anyUncertain = uncertainSeen[0];
    for (int part = 1; part < parts; part++) {
      for (int k = 0; k < BINS; k++) {
        fg[k] += fgs[part][k];
        bg[k] += bgs[part][k];
      }
      nf += sides[2 * part];
      nb += sides[2 * part + 1];
      anyUncertain |= uncertainSeen[part];
    }
    long uncertain = argb.length - nf - nb;
    double weight = holdBack ? evidenceWeight(nf, nb, uncertain) : 1;
    if (weight < 1) {
      String counts = " confidentFg=" + nf + " confidentBg=" + nb + " uncertain=" + uncertain;
      LOG.fine(() -> "event=appearance_hold_back weight=" + weight + counts);
    }
    if (weight == 0) {
      return out;
    }
    // Per bin P(F | colour) with equal class priors: each histogram normalised by its own total.
    // and the evidence weight n / (n + PRIOR_COUNT) of the bin's raw count.
    float[] post = new float[BINS];
    float[] evidence = new float[BINS];
    float wf = (float) (1.0 / nf);
    float wb = (float) (1.0 / nb);
    for (int k = 0; k < BINS; k++) {
      float lf = fg[k] * wf;
      float lb = bg[k] * wb;
      int n = fg[k] + bg[k];
      post[k] = n > 0 ? lf / (lf + lb) : 0f;
      evidence[k] = n / (n + PRIOR_COUNT);
    }
    float s = (float) (strength * weight);
    Parallel.forRange(argb.length, MIN_PIXELS_PER_PART, (from, to) -> {
      for (int i = from; i < to; i++) {
        int a8 = alpha[i] & 0xFF;
        if (a8 <= UNCERTAIN_LOW || a8 >= UNCERTAIN_HIGH) {
          continue;
        }
        int k = bin(argb[i]);
        float e = evidence[k];
        if (e == 0f) {
          continue; // colour never seen confidently
        }
        float a = a8 * INV_255;
        // P' − α = e·(P − α)
        float moved = a + s * e * (float) Math.sqrt(4f * a * (1f - a)) * (post[k] - a);
        out[i] = (byte) (int) (Math.min(1f, Math.max(0f, moved)) * 255f + 0.5f);
      }
    });
    return out;
  }

  /**
   * How far the colour step may act, 0..1, from the counts of confident foreground, confident
   * background and the remaining (uncertain) pixels: a ramp over the smaller confident side per
   * uncertain pixel, from {@value #EVIDENCE_NONE} (0) to {@value #EVIDENCE_FULL} (1). No uncertain
   * pixel: 1 (there is nothing the step could get wrong).
   */
  public static double evidenceWeight(long confidentFg, long confidentBg, long uncertain) {
    if (confidentFg < 0 || confidentBg < 0 || uncertain < 0) {
      throw new IllegalArgumentException("counts must not be negative: " + confidentFg + ", " + confidentBg + ", "
          + uncertain);
    }
    if (uncertain == 0) {
      return 1;
    }
    double perUncertain = (double) Math.min(confidentFg, confidentBg) / uncertain;
    return Math.min(1, Math.max(0, (perUncertain - EVIDENCE_NONE) / (EVIDENCE_FULL - EVIDENCE_NONE)));
  }

  private static int bin(int px) {
    return ((px >> (16 + SHIFT)) & MASK) << (2 * BITS) | ((px >> (8 + SHIFT)) & MASK) << BITS | (px >> SHIFT) & MASK;
  }
}
