package io.unimatte.imaging.refine;

/**
 * Settings of {@link MatteRefiner}, distances in full-resolution pixels.
 *
 * @param bandRadius how far beyond the uncertain pixels (0 &lt; α &lt; 255 after a threshold) the edge
 *                   filter may change alpha; 0: only the uncertain pixels themselves
 * @param radius     guided-filter window radius
 * @param eps        guided-filter regulariser (colours and alpha in 0..1): larger keeps more of the
 *                   input matte, smaller follows the photo's edges more closely
 * @param strength   blend factor in [0, 1] between the input matte (0) and the filtered one (1)
 * @param appearance strength in [0, 1] of {@link AppearanceModel}'s colour re-decision (0: off)
 */
public record RefineOptions(int bandRadius, int radius, double eps, double strength, double appearance) {

  public static final int DEFAULT_BAND_RADIUS = 0;
  public static final int DEFAULT_RADIUS = 8;
  public static final double DEFAULT_EPS = 1e-3;
  public static final double DEFAULT_STRENGTH = 1.0;
  public static final double DEFAULT_APPEARANCE = 1.0;

  /** The defaults measured on the matting-dev set (see RefineQuality and docs/PERFORMANCE.md). */
  public static final RefineOptions DEFAULTS = new RefineOptions(DEFAULT_BAND_RADIUS, DEFAULT_RADIUS, DEFAULT_EPS,
      DEFAULT_STRENGTH, DEFAULT_APPEARANCE);

  public RefineOptions {
    if (bandRadius < 0 || radius < 1 || !(eps > 0) || !(strength >= 0 && strength <= 1)
        || !(appearance >= 0 && appearance <= 1)) {
      throw new IllegalArgumentException("invalid refine options: bandRadius=" + bandRadius + ", radius="
          + radius + ", eps=" + eps + ", strength=" + strength + ", appearance=" + appearance);
    }
  }

  /** Edge filter only (no colour re-decision). */
  public RefineOptions(int bandRadius, int radius, double eps, double strength) {
    this(bandRadius, radius, eps, strength, 0);
  }
}
