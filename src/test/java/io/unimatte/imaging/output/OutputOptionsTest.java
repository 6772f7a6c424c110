package io.unimatte.imaging.output;

import io.unimatte.error.CodedException;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parsing of roi, scale, position, WebP and background images, and their part in the cache key. */
class OutputOptionsTest {
  private static OutputOptions parse(String... kv) {
    Map<String, String> m = new java.util.HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return OutputOptions.parse(m);
  }

  private static String refusedParameter(String... kv) {
    return assertThrows(OutputOptions.InvalidOptionException.class, () -> parse(kv)).parameter();
  }

  @Test
  void roiInPixelsOrPercentResolvesAgainstTheImage() {
    OutputOptions o = parse("roi", "10% 20% 90% 80%");
    assertArrayEquals(new int[] {40, 60, 360, 240}, o.roi().resolve(400, 300));
    assertArrayEquals(new int[] {5, 6, 400, 300}, parse("roi", "5px 6 1000px 900").roi().resolve(400, 300),
        "clamped to the image");
    assertArrayEquals(new int[] {0, 0, 200, 150}, parse("roi", "0,0,50%,150px").roi().resolve(400, 300), "mixed units");
    assertNull(parse().roi());
    assertEquals("roi", refusedParameter("roi", "10% 10% 90%"));
    assertEquals("roi", refusedParameter("roi", "90% 10% 10% 90%"));
    assertEquals("roi", refusedParameter("roi", "0 0 120% 100%"));
    assertEquals("roi", refusedParameter("roi", "a b c d"));
  }

  @Test
  void scaleImpliesCentreUnlessAPositionIsGiven() {
    OutputOptions scaled = parse("scale", "50%");
    assertEquals(0.5, scaled.scale());
    assertEquals(OutputOptions.Position.CENTER, scaled.position());
    assertTrue(scaled.laysOut());
    assertEquals(OutputOptions.Position.ORIGINAL, parse("scale", "50%", "position", "original").position());
    assertNull(parse("scale", "original").scale());
    assertFalse(parse().laysOut());
    assertEquals(new OutputOptions.Position(0.25, 0.25, false), parse("position", "25%").position());
    assertEquals(new OutputOptions.Position(0, 1, false), parse("position", "0% 100%").position());
    assertEquals(0.1, parse("scale", "10").scale(), 1e-9);
    assertEquals("scale", refusedParameter("scale", "9%"));
    assertEquals("scale", refusedParameter("scale", "101%"));
    assertEquals("position", refusedParameter("position", "top"));
    assertEquals("position", refusedParameter("position", "50% 120%"));
  }

  @Test
  void webpIsLosslessUnlessAQualityIsGiven() {
    OutputOptions lossless = parse("format", "webp");
    assertEquals("image/webp", lossless.contentType());
    assertFalse(lossless.lossy());
    OutputOptions lossy = parse("format", "webp", "quality", "70");
    assertTrue(lossy.lossy());
    assertNotEquals(lossless.canonical(), lossy.canonical());
    assertNotEquals(lossy.canonical(), parse("format", "webp", "quality", "71").canonical());
    assertFalse(parse("format", "png", "quality", "70").lossy());
  }

  @Test
  void theCacheKeyHasEveryNewOptionAndTheBackgroundsHashNotItsSource() {
    String plain = parse().canonical();
    for (String[] kv : new String[][] {{"roi", "0 0 10 10"}, {"scale", "50%"}, {"position", "center"},
        {"format", "webp"}}) {
      assertNotEquals(plain, parse(kv).canonical(), kv[0]);
    }
    byte[] photo = {1, 2, 3};
    OutputOptions a = parse().withBackgroundImage(photo);
    OutputOptions b = parse().withBackgroundImage(photo.clone());
    assertEquals(a.canonical(), b.canonical(), "same bytes, same key");
    assertTrue(a.canonical().contains(a.backgroundImage().sha256()));
    assertNotEquals(a.canonical(), parse().withBackgroundImage(new byte[] {1, 2, 4}).canonical());
    assertEquals(parse("output", "alpha").canonical(), parse("output", "alpha").withBackgroundImage(photo).canonical(),
        "a matte has no background");
    assertEquals(plain, parse().withBackgroundImage(null).canonical());
    CodedException both = assertThrows(CodedException.class, () -> parse("bg", "ff0000").withBackgroundImage(photo));
    assertEquals("invalid_parameter", both.code());
  }

  @Test
  void asMatteKeepsTheFraming() {
    OutputOptions o = parse("crop", "true", "scale", "40%", "roi", "1 2 3 4", "format", "webp")
        .withBackgroundImage(new byte[] {9});
    OutputOptions m = o.asMatte();
    assertTrue(m.matteOnly());
    assertEquals("png", m.format());
    assertNull(m.backgroundImage());
    assertEquals(o.roi(), m.roi());
    assertEquals(o.scale(), m.scale());
    assertEquals(o.position(), m.position());
    assertTrue(m.crop());
  }
}
