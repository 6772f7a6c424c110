package io.unimatte.imaging.refine;

/**
 * Settings of {@link EdgeRefiner}, all in full-resolution pixels.
 *
 * @param bandRadius how far from the uncertain pixels (0 &lt; α &lt; 255 after a threshold) the
 *                   refinement may change alpha; outside this band the matte is returned unchanged
 * @param radius     guided-filter window radius
 * @param eps        guided-filter regulariser (colours and alpha in 0..1): larger keeps more of the
 *                   input matte, smaller follows the photo's edges more closely
 * @param strength   blend factor in [0, 1] between the input matte (0) and the filtered one (1)
 */
public record RefineOptions(int bandRadius, int radius, double eps, double strength) {

    public static final int DEFAULT_BAND_RADIUS = 16;
    public static final int DEFAULT_RADIUS = 4;
    public static final double DEFAULT_EPS = 1e-4;
    public static final double DEFAULT_STRENGTH = 0.5;

    /** The defaults tuned on the matting-dev set (see RefineQuality). */
    public static final RefineOptions DEFAULTS =
            new RefineOptions(DEFAULT_BAND_RADIUS, DEFAULT_RADIUS, DEFAULT_EPS, DEFAULT_STRENGTH);

    public RefineOptions {
        if (bandRadius < 0 || radius < 1 || !(eps > 0) || !(strength >= 0 && strength <= 1)) {
            throw new IllegalArgumentException("invalid refine options: bandRadius=" + bandRadius + ", radius="
                    + radius + ", eps=" + eps + ", strength=" + strength);
        }
    }
}
