package io.unimatte.imaging;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class CompositorTest {

  private static final int[] PIXELS = {0xFF102030, 0xFFFFFFFF, 0xFF000000, 0xFF804020};
  private static final byte[] MATTE = {0, (byte) 255, (byte) 128, 64};

  private static DecodedImage opaque() {
    return new DecodedImage(2, 2, PIXELS.clone(), "jpeg", false, 1);
  }

  @Test
  void cutoutKeepsRgbAndSetsStraightAlpha() {
    DecodedImage img = opaque();
    int[] out = Compositor.cutout(img, MATTE);
    assertArrayEquals(new int[] {0x00102030, 0xFFFFFFFF, 0x80000000, 0x40804020}, out);
    assertArrayEquals(PIXELS, img.argb(), "source untouched");
  }

  @Test
  void sourceTransparencyIsKept() {
    DecodedImage img = new DecodedImage(2, 1, new int[] {0x80FF0000, 0x00FF0000}, "png", true, 1);
    byte[] matte = {(byte) 255, (byte) 255};
    assertArrayEquals(new int[] {0x80FF0000, 0x00FF0000}, Compositor.cutout(img, matte));
    assertArrayEquals(new byte[] {(byte) 128, 0}, Compositor.matte(img, matte));
  }

  @Test
  void matteIsPassedThroughForOpaqueSources() {
    assertSame(MATTE, Compositor.matte(opaque(), MATTE));
  }

  @Test
  void onBackgroundBlends() {
    int[] out = Compositor.onBackground(opaque(), MATTE, 0x00FF00);
    // alpha 0 -> background; 255 -> foreground; 128 black over green -> green 127; 64: (0x80,0x40,0x20) over green
    int g3 = (0 * 128 + 255 * 127 + 127) / 255;
    int r4 = Math.round((0x80 * 64) / 255f);
    int g4 = Math.round((0x40 * 64 + 255 * 191) / 255f);
    int b4 = Math.round((0x20 * 64) / 255f);
    assertArrayEquals(new int[] {0xFF00FF00, 0xFFFFFFFF, 0xFF000000 | g3 << 8, 0xFF000000 | r4 << 16 | g4 << 8 | b4}, out);
  }

  @Test
  void rejectsMismatchedMatte() {
    assertThrows(IllegalArgumentException.class, () -> Compositor.cutout(opaque(), new byte[3]));
    assertThrows(IllegalArgumentException.class, () -> Compositor.onBackground(opaque(), new byte[5], 0));
  }
}
