package io.unimatte.imaging.refine;

import io.unimatte.imaging.DecodedImage;

/**
 * The full-resolution matte refinement: first {@link AppearanceModel} re-decides wide regions the
 * model left grey, then {@link EdgeRefiner} fits the remaining soft pixels to the photo's edges.
 * In that order because the guided filter should fit the corrected matte, not the grey one.
 * The colour step is the only one that learns from the model's confident pixels, so it is the one
 * that holds back when they are too few ({@link AppearanceModel#evidenceWeight}); the edge filter
 * only fits the matte locally to the photo and always runs.
 */
public final class MatteRefiner {

  private MatteRefiner() {
  }

  /** The refined matte (a new array), same size as {@code alpha}. */
  public static byte[] refine(DecodedImage img, byte[] alpha, RefineOptions opts) {
    byte[] a = opts.appearance() > 0 ? AppearanceModel.apply(img, alpha, opts.appearance()) : alpha;
    return opts.strength() > 0 ? EdgeRefiner.refine(img, a, opts) : a == alpha ? alpha.clone() : a;
  }
}
