package io.unimatte.service;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class MatteResultTimingTest {

  @Test
  void headerKeepsTheFourOldPartsFirstAndRoundTrips() {
    MatteResult.Timing t = new MatteResult.Timing(12, 340, 2100, 450, 40, 150, 120, 139);
    String h = t.header();
    assertEquals("decode=12;queue=340;infer=2100;encode=450;upscale=40;refine=150;colour=120;write=139", h);
    assertEquals(t, MatteResult.Timing.parse(h));
  }

  @Test
  void oldHeadersParseWithZeroParts() {
    // results cached before the split stored only the four
    MatteResult.Timing t = MatteResult.Timing.parse("decode=1;queue=2;infer=3;encode=4");
    assertEquals(new MatteResult.Timing(1, 2, 3, 4, 0, 0, 0, 0), t);
    assertEquals(new MatteResult.Timing(1, 2, 3, 4), t);
    assertEquals(new MatteResult.Timing(0, 0, 0, 0), MatteResult.Timing.parse(null));
    assertEquals(new MatteResult.Timing(0, 0, 0, 5), MatteResult.Timing.parse("encode=5;refine=x;bogus"));
  }
}
