package io.unimatte.imaging;

import io.unimatte.error.CodedException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where WebP cannot be written, the encoder says why and refuses with a stable code instead of crashing. */
class WebpEncoderTest {
  @Test
  void aNativeThatDoesNotLoadIsReportedNotThrown() {
    WebpEncoder.Availability a = WebpEncoder.probe(() -> {
      throw new UnsatisfiedLinkError("no libwebp-imageio in java.library.path");
    });
    assertFalse(a.available());
    assertTrue(a.reason().contains("did not load on") && a.reason().contains("libwebp-imageio"), a.reason());
    assertFalse(WebpEncoder.probe(() -> {
      throw new IllegalStateException("unsupported platform");
    }).available());
    assertTrue(WebpEncoder.probe(() -> "ok").available());
  }

  @Test
  void aTurnedOffEncoderRefusesWithOutputFormatUnavailable() {
    WebpEncoder off = new WebpEncoder(false);
    assertFalse(off.available());
    CodedException e = assertThrows(CodedException.class, () -> off.encode(1, 1, new int[] {0xFF000000}, true, false, 0));
    assertEquals("output_format_unavailable", e.code());
    assertEquals(501, e.error().status());
    assertTrue(e.getMessage().contains("imaging.webp"), e.getMessage());
  }

  /**
   * A flat cutout as the server made it (Products.product() through the tiny model; 2.4 KB): libwebp's method 0
   * writes it so that TwelveMonkeys 3.12 reads most transparent pixels as opaque. Every effort must avoid that.
   */
  @Test
  void aFlatCutoutReadsBackExactlyAtEveryEffort() throws Exception {
    DecodedImage cutout;
    try (var in = WebpEncoderTest.class.getResourceAsStream("/imaging/product-cutout.png")) {
      cutout = new ImageDecoder().decode(in.readAllBytes());
    }
    assertTrue(cutout.hasAlpha());
    int[] px = cutout.argb();
    for (int effort : new int[] {0, 25, 50, 100}) {
      DecodedImage back = new ImageDecoder().decode(new WebpEncoder(true, effort).encode(cutout.width(),
          cutout.height(), px, true, false, 0));
      for (int i = 0; i < px.length; i++) {
        assertEquals(px[i] >>> 24, back.argb()[i] >>> 24, "effort " + effort + ": alpha of pixel " + i);
      }
    }
  }

  @Test
  void writesLosslessWebpThatTwelveMonkeysReads() throws Exception {
    WebpEncoder webp = new WebpEncoder(true);
    assertTrue(webp.available(), webp.unavailableReason());
    int[] px = new int[64 * 32];
    for (int i = 0; i < px.length; i++) {
      px[i] = ((i * 7) & 0xFF) << 24 | (i & 0xFFFFFF);
    }
    DecodedImage back = new ImageDecoder().decode(webp.encode(64, 32, px, true, false, 0));
    assertEquals(64, back.width());
    for (int i = 0; i < px.length; i++) {
      assertEquals(px[i] >>> 24, back.argb()[i] >>> 24, "alpha of pixel " + i);
      if ((px[i] >>> 24) != 0) {
        assertEquals(px[i], back.argb()[i], "pixel " + i);
      }
    }
  }
}
