package io.unimatte.imaging.refine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unimatte.imaging.DecodedImage;
import org.junit.jupiter.api.Test;

class AppearanceModelTest {

  private static final int W = 100;
  private static final int H = 40;
  private static final int RED = 0xFFC02010;
  private static final int BLUE = 0xFF1030C0;
  private static final int GREEN = 0xFF10C020;

  /**
   * Left: confident red subject; right: confident blue background; in the middle three unsure
   * patches: red the model put at 0.3, blue at 0.7, and green (seen on neither side) at 0.5.
   */
  @Test
  void unsureRegionsFollowTheColoursSeenOnEachSide() {
    int[] argb = new int[W * H];
    byte[] alpha = new byte[W * H];
    for (int y = 0; y < H; y++) {
      for (int x = 0; x < W; x++) {
        int i = y * W + x;
        if (x < 40) {
          argb[i] = RED;
          alpha[i] = (byte) 255;
        } else if (x >= 60) {
          argb[i] = BLUE;
          alpha[i] = 0;
        } else if (y < 13) {
          argb[i] = RED;
          alpha[i] = (byte) 77;
        } else if (y < 26) {
          argb[i] = BLUE;
          alpha[i] = (byte) 178;
        } else {
          argb[i] = GREEN;
          alpha[i] = (byte) 128;
        }
      }
    }
    DecodedImage img = RefineTestImages.image(W, H, argb);
    byte[] out = AppearanceModel.apply(img, alpha, 1.0);
    int redPatch = out[5 * W + 50] & 0xFF;
    int bluePatch = out[20 * W + 50] & 0xFF;
    assertTrue(redPatch > 200, "red seen only in the subject goes up: " + redPatch);
    assertTrue(bluePatch < 60, "blue seen only in the background goes down: " + bluePatch);
    assertEquals(128, out[30 * W + 50] & 0xFF, "a colour never seen confidently keeps the model's value");
    for (int y = 0; y < H; y++) {
      assertEquals(255, out[y * W + 10] & 0xFF, "confident pixels are kept");
      assertEquals(0, out[y * W + 90] & 0xFF, "confident pixels are kept");
    }
    assertArrayEquals(alpha, AppearanceModel.apply(img, alpha, 0), "strength 0 changes nothing");
    int half = AppearanceModel.apply(img, alpha, 0.5)[5 * W + 50] & 0xFF;
    assertTrue(half > 77 && half < redPatch, "half strength moves half way: " + half);
  }

  @Test
  void needsExamplesOfBothSides() {
    int[] argb = new int[W * H];
    java.util.Arrays.fill(argb, RED);
    byte[] alpha = new byte[W * H];
    for (int i = 0; i < alpha.length; i++) {
      alpha[i] = (byte) (i % W < 50 ? 255 : 128); // no confident background at all
    }
    assertArrayEquals(alpha, AppearanceModel.apply(RefineTestImages.image(W, H, argb), alpha, 1.0));
  }

  @Test
  void rejectsBadArguments() {
    DecodedImage img = RefineTestImages.image(2, 2, new int[4]);
    assertThrows(IllegalArgumentException.class, () -> AppearanceModel.apply(img, new byte[3], 1));
    assertThrows(IllegalArgumentException.class, () -> AppearanceModel.apply(img, new byte[4], 1.5));
    assertThrows(IllegalArgumentException.class, () -> new RefineOptions(0, 8, 1e-3, 1, -0.1));
  }
}
