package io.unimatte.imaging;

import java.util.Objects;

/**
 * Combines a decoded photo with a full-resolution alpha matte (one byte per pixel, 0..255, same
 * width × height as the image). Where the source itself had transparency, the result keeps it:
 * the matte is multiplied with the source alpha. Stateless and thread-safe.
 */
public final class Compositor {

  private static final int MAX_8BIT = 255;
  private static final int RGB_MASK = 0x00FFFFFF;
  private static final int OPAQUE = 0xFF000000;

  private Compositor() {
  }

  /**
   * The cutout: the original RGB with alpha = matte (× source alpha), straight (not premultiplied)
   * as PNG stores it. A new array; the image is not modified.
   */
  public static int[] cutout(DecodedImage img, byte[] alpha) {
    int[] src = img.argb();
    Objects.requireNonNull(img, "img").checkMatte(alpha);
    int n = src.length;
    int[] out = new int[n];
    if (img.hasAlpha()) {
      for (int i = 0; i < n; i++) {
        int p = src[i];
        int a = mul255(p >>> 24, alpha[i] & 0xFF);
        out[i] = a << 24 | (p & RGB_MASK);
      }
    } else {
      for (int i = 0; i < n; i++) {
        out[i] = (alpha[i] & 0xFF) << 24 | (src[i] & RGB_MASK);
      }
    }
    return out;
  }

  /**
   * The matte to return as a grey image: {@code alpha} itself when the source was opaque (no
   * copy), otherwise a new array with the source alpha multiplied in.
   */
  public static byte[] matte(DecodedImage img, byte[] alpha) {
    Objects.requireNonNull(img, "img").checkMatte(alpha);
    if (!img.hasAlpha()) {
      return alpha;
    }
    int[] src = img.argb();
    byte[] out = new byte[alpha.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (byte) mul255(src[i] >>> 24, alpha[i] & 0xFF);
    }
    return out;
  }

  /**
   * The subject composited over a solid {@code rgb} colour ({@code 0xRRGGBB}; the top byte is
   * ignored), blended in sRGB like every browser does. The result is opaque.
   */
  public static int[] onBackground(DecodedImage img, byte[] alpha, int rgb) {
    int[] src = img.argb();
    Objects.requireNonNull(img, "img").checkMatte(alpha);
    boolean srcAlpha = img.hasAlpha();
    int br = (rgb >> 16) & 0xFF;
    int bg = (rgb >> 8) & 0xFF;
    int bb = rgb & 0xFF;
    int bgPixel = OPAQUE | (rgb & RGB_MASK);
    int n = src.length;
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      int p = src[i];
      int a = alpha[i] & 0xFF;
      if (srcAlpha) {
        a = mul255(a, p >>> 24);
      }
      if (a == MAX_8BIT) {
        out[i] = OPAQUE | p;
      } else if (a == 0) {
        out[i] = bgPixel;
      } else {
        int ia = MAX_8BIT - a;
        int r = div255(((p >> 16) & 0xFF) * a + br * ia);
        int g = div255(((p >> 8) & 0xFF) * a + bg * ia);
        int b = div255((p & 0xFF) * a + bb * ia);
        out[i] = OPAQUE | r << 16 | g << 8 | b;
      }
    }
    return out;
  }

  /** round(a * b / 255) for a, b in 0..255. */
  private static int mul255(int a, int b) {
    return div255(a * b);
  }

  /** round(v / 255) for v in 0..65025, without a division. */
  private static int div255(int v) {
    v += 128;
    return (v + (v >> 8)) >> 8;
  }
}
