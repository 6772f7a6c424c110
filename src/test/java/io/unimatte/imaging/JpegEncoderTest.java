package io.unimatte.imaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class JpegEncoderTest {

  @Test
  void encodesDecodableJpegIgnoringAlpha() throws Exception {
    int w = 48;
    int h = 32;
    int[] argb = new int[w * h];
    for (int i = 0; i < argb.length; i++) {
      argb[i] = (i % w < 24 ? 0x00FF0000 : 0x800000FF); // alpha bytes must not matter
    }
    byte[] jpeg = new JpegEncoder(0.95f).encode(w, h, argb);
    DecodedImage img = new ImageDecoder().decode(jpeg);
    assertEquals("jpeg", img.format());
    assertEquals(w, img.width());
    assertEquals(h, img.height());
    assertTrue(TestImages.channelDiff(0xFFFF0000, TestImages.pixel(img, 4, 16)) <= 12);
    assertTrue(TestImages.channelDiff(0xFF0000FF, TestImages.pixel(img, 40, 16)) <= 12);
  }

  @Test
  void qualityControlsSize() {
    int[] noise = new Random(1).ints(128 * 128).toArray();
    int low = new JpegEncoder(0.3f).encode(128, 128, noise).length;
    int high = new JpegEncoder(0.95f).encode(128, 128, noise).length;
    assertTrue(low < high, low + " >= " + high);
  }

  @Test
  void rejectsBadQuality() {
    assertThrows(IllegalArgumentException.class, () -> new JpegEncoder(1.5f));
    assertThrows(IllegalArgumentException.class, () -> new JpegEncoder(Float.NaN));
  }
}
