package io.unimatte.imaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class MatteConfidenceTest {

  private static final int W = 200;
  private static final int H = 150;
  private static final double THRESHOLD = MatteConfidence.DEFAULT_REVIEW_THRESHOLD;

  /** An anti-aliased disc: 255 inside, 0 outside, a ramp {@code soft} px wide at the rim. */
  private static byte[] disc(double radius, double soft) {
    byte[] a = new byte[W * H];
    for (int y = 0; y < H; y++) {
      for (int x = 0; x < W; x++) {
        double d = Math.hypot(x + 0.5 - W / 2.0, y + 0.5 - H / 2.0);
        double v = Math.min(1, Math.max(0, (radius - d) / soft + 0.5));
        a[y * W + x] = (byte) Math.round(v * 255);
      }
    }
    return a;
  }

  @Test
  void aCleanDiscScoresHighAndIsNotFlagged() {
    MatteConfidence c = MatteConfidence.of(disc(60, 2), W, H);
    assertTrue(c.score() > 0.9, "only the rim is soft: " + c);
    assertTrue(c.subjectFound());
    assertFalse(c.review(THRESHOLD));
    assertEquals(Math.PI * 60 * 60 / (W * H), c.foregroundShare(), 0.02, "the disc's area");
    // the rim: 2 px wide around the circle, 90 % of it between 0.05 and 0.95
    assertEquals(2 * Math.PI * 60 * 2 * 0.9 / (W * H), c.uncertainShare(), 0.002, "a 2 px rim");
  }

  @Test
  void aMatteOfOneHalfEverywhereScoresZeroAndIsFlagged() {
    byte[] a = new byte[W * H];
    Arrays.fill(a, (byte) 128);
    MatteConfidence c = MatteConfidence.of(a, W, H);
    assertEquals(0, c.score());
    assertEquals(1, c.uncertainShare());
    assertEquals(0, c.foregroundShare());
    assertFalse(c.subjectFound());
    assertTrue(c.review(THRESHOLD));
    assertEquals("0.000", c.headerValue());
  }

  /** The failing photos: about 0.1 % confident foreground in a third of the image left grey. */
  @Test
  void aHandfulOfConfidentPixelsInAGreyMatteIsNoSubject() {
    byte[] a = new byte[W * H];
    for (int i = 0; i < a.length; i++) {
      a[i] = (byte) (i < a.length / 3 ? 140 : 0);
    }
    Arrays.fill(a, 0, a.length / 1000, (byte) 255);
    MatteConfidence c = MatteConfidence.of(a, W, H);
    assertFalse(c.subjectFound());
    assertTrue(c.score() < 0.01, "nothing found: " + c);
    assertTrue(c.review(THRESHOLD));
  }

  @Test
  void anEmptyMatteFoundNothing() {
    MatteConfidence c = MatteConfidence.of(new byte[W * H], W, H);
    assertEquals(0, c.score());
    assertEquals(0, c.uncertainShare());
    assertFalse(c.subjectFound());
    assertTrue(c.review(THRESHOLD));
  }

  @Test
  void aSubjectLeftHalfGreyScoresAboutOneHalf() {
    byte[] a = disc(60, 2);
    for (int i = 0; i < a.length; i += 2) {
      if ((a[i] & 0xFF) == 255) {
        a[i] = (byte) 180; // every other subject pixel unsure
      }
    }
    MatteConfidence c = MatteConfidence.of(a, W, H);
    assertEquals(0.5, c.score(), 0.03, c.toString());
  }

  @Test
  void aTinySubjectCountsLessThanAFoundOne() {
    // a clean disc of 0.25 % of the image: half the minimum subject share
    double radius = Math.sqrt(MatteConfidence.MIN_SUBJECT_SHARE / 2 * W * H / Math.PI);
    MatteConfidence c = MatteConfidence.of(disc(radius, 1), W, H);
    assertFalse(c.subjectFound(), c.toString());
    assertTrue(c.score() < MatteConfidence.of(disc(60, 1), W, H).score() * 0.6, c.toString());
  }

  @Test
  void headerValueHasThreeDecimalsInAnyLocaleAndAgreesWithTheFlag() {
    Locale before = Locale.getDefault();
    try {
      Locale.setDefault(Locale.GERMANY);
      assertEquals("0.873", new MatteConfidence(0.873, 0.1, 0.4, true).headerValue());
      assertEquals("1.000", new MatteConfidence(1, 0, 1, true).headerValue());
    } finally {
      Locale.setDefault(before);
    }
    MatteConfidence c = MatteConfidence.of(disc(60, 40), W, H);
    assertEquals(c.headerValue(), String.format(Locale.ROOT, "%.3f", c.score()));
    assertEquals(Double.parseDouble(c.headerValue()), c.score(), 0, "the score is kept to the header's decimals");
    assertFalse(new MatteConfidence(THRESHOLD, 0, 1, true).review(THRESHOLD), "at the threshold: not flagged");
    assertTrue(new MatteConfidence(THRESHOLD - 0.001, 0, 1, true).review(THRESHOLD));
  }

  @Test
  void rejectsBadArguments() {
    assertThrows(IllegalArgumentException.class, () -> MatteConfidence.of(new byte[5], 2, 2));
    assertThrows(IllegalArgumentException.class, () -> MatteConfidence.of(null, 2, 2));
    assertThrows(IllegalArgumentException.class, () -> MatteConfidence.of(new byte[0], 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new MatteConfidence(1.5, 0, 0, true));
  }
}
