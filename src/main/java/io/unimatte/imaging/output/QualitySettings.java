package io.unimatte.imaging.output;

import io.unimatte.config.AppConfig;
import io.unimatte.imaging.MatteConfidence;
import io.unimatte.imaging.refine.ForegroundEstimator;
import io.unimatte.imaging.refine.RefineOptions;
import io.vertx.core.json.JsonObject;
import java.util.Objects;

/**
 * The server's matte-quality defaults: whether to refine mattes and estimate foreground colours when a
 * request does not say, and how. Built once from the {@code imaging} section of the configuration.
 *
 * @param refine    refine by default ({@code imaging.refine})
 * @param colour    estimate foreground colours by default ({@code imaging.colourEstimation})
 * @param options   refinement settings ({@code imaging.refineBand, refineRadius, refineEps, refineStrength,
 *                  refineAppearance})
 * @param estimator the foreground-colour estimator
 * @param reviewThreshold a cutout whose {@link MatteConfidence#score()} is below this, 0..1, is flagged
 *                  for review ({@code imaging.reviewThreshold}; {@link MatteConfidence#review(double)})
 */
public record QualitySettings(boolean refine, boolean colour, RefineOptions options, ForegroundEstimator estimator,
                              double reviewThreshold) {

  /** Neither refinement nor colour estimation: the model's matte and the photo's colours as they are. */
  public static final QualitySettings OFF = new QualitySettings(false, false, RefineOptions.DEFAULTS,
      new ForegroundEstimator(), MatteConfidence.DEFAULT_REVIEW_THRESHOLD);

  public QualitySettings {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(estimator, "estimator");
    if (!(reviewThreshold >= 0 && reviewThreshold <= 1)) {
      throw new IllegalArgumentException("imaging.reviewThreshold must be in [0, 1], got " + reviewThreshold);
    }
  }

  /** From the {@code imaging} configuration section; every key is required. */
  public static QualitySettings fromConfig(JsonObject imaging) {
    RefineOptions o;
    try {
      o = new RefineOptions(AppConfig.requireInt(imaging, "refineBand"), AppConfig.requireInt(imaging, "refineRadius"),
          AppConfig.requireDouble(imaging, "refineEps"), AppConfig.requireDouble(imaging, "refineStrength"),
          AppConfig.requireDouble(imaging, "refineAppearance"));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("imaging.refine*: " + e.getMessage(), e);
    }
    return new QualitySettings(AppConfig.requireBoolean(imaging, "refine"),
        AppConfig.requireBoolean(imaging, "colourEstimation"), o, new ForegroundEstimator(),
        AppConfig.requireDouble(imaging, "reviewThreshold"));
  }

  /** Whether a cutout whose model matte (unrefined) has this confidence is flagged for review here. */
  public boolean needsReview(MatteConfidence confidence) {
    return confidence.review(reviewThreshold);
  }

  /** Whether {@code o} gets matte refinement. */
  public boolean refines(OutputOptions o) {
    return o.refine() != null ? o.refine() : refine;
  }

  /** Whether {@code o} gets foreground colour estimation: cutouts and composites only, never bare mattes. */
  public boolean estimatesColour(OutputOptions o) {
    return !o.matteOnly() && (o.colour() != null ? o.colour() : colour);
  }
}
