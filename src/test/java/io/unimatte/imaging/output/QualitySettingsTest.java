package io.unimatte.imaging.output;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unimatte.config.AppConfig;
import io.unimatte.imaging.MatteConfidence;
import io.unimatte.imaging.refine.RefineOptions;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class QualitySettingsTest {

  private static JsonObject imaging(String... args) {
    return AppConfig.load(Path.of("config.json"), Map.of(), args).section("imaging");
  }

  @Test
  void configJsonShipsTheMeasuredDefaults() {
    QualitySettings q = QualitySettings.fromConfig(imaging());
    assertEquals(RefineOptions.DEFAULTS, q.options());
    assertTrue(q.refine());
    assertTrue(q.colour());
    assertEquals(MatteConfidence.DEFAULT_REVIEW_THRESHOLD, q.reviewThreshold());
    assertEquals(MatteConfidence.DEFAULT_REVIEW_THRESHOLD, QualitySettings.OFF.reviewThreshold());
  }

  @Test
  void reviewThresholdFlagsScoresBelowIt() {
    QualitySettings q = QualitySettings.fromConfig(imaging("--imaging.reviewThreshold=0.8"));
    assertTrue(q.needsReview(new MatteConfidence(0.799, 0.1, 0.4, true)));
    assertFalse(q.needsReview(new MatteConfidence(0.8, 0.1, 0.4, true)));
    assertFalse(QualitySettings.fromConfig(imaging("--imaging.reviewThreshold=0"))
        .needsReview(new MatteConfidence(0, 1, 0, false)), "0 flags nothing");
  }

  @Test
  void requestChoicesWinOverDefaultsAndMattesNeverGetColours() {
    QualitySettings q = QualitySettings.fromConfig(imaging("--imaging.refine=false"));
    OutputOptions cutout = OutputOptions.parse(Map.of());
    OutputOptions matte = OutputOptions.parse(Map.of("output", "alpha", "colour", "true"));
    assertFalse(q.refines(cutout));
    assertTrue(q.refines(OutputOptions.parse(Map.of("refine", "true"))));
    assertTrue(q.estimatesColour(cutout));
    assertFalse(q.estimatesColour(OutputOptions.parse(Map.of("color", "false"))));
    assertFalse(q.estimatesColour(matte));
  }

  @Test
  void cacheKeyCarriesTheChoices() {
    String plain = OutputOptions.parse(Map.of()).canonical();
    assertNotEquals(plain, OutputOptions.parse(Map.of("refine", "false")).canonical());
    assertNotEquals(plain, OutputOptions.parse(Map.of("colour", "false")).canonical());
    assertEquals(OutputOptions.parse(Map.of("colour", "false")).canonical(),
        OutputOptions.parse(Map.of("color", "off")).canonical());
    // colour does not change a grey matte: one cache entry for both
    assertEquals(OutputOptions.parse(Map.of("output", "alpha", "colour", "true")).canonical(),
        OutputOptions.parse(Map.of("output", "alpha", "colour", "false")).canonical());
  }

  @Test
  void badSettingsFailAtStart() {
    assertThrows(IllegalArgumentException.class,
        () -> QualitySettings.fromConfig(imaging("--imaging.refineStrength=1.5")));
    assertThrows(IllegalArgumentException.class,
        () -> QualitySettings.fromConfig(imaging("--imaging.refineRadius=0")));
    assertThrows(IllegalArgumentException.class,
        () -> QualitySettings.fromConfig(imaging("--imaging.colourEstimation=maybe")));
    assertThrows(IllegalArgumentException.class,
        () -> QualitySettings.fromConfig(imaging("--imaging.reviewThreshold=1.5")));
  }
}
