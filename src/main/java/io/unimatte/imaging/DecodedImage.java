package io.unimatte.imaging;

import java.util.Objects;

/**
 * A decoded picture, already rotated/flipped upright according to its EXIF orientation.
 *
 * @param width       width in pixels after orientation
 * @param height      height in pixels after orientation
 * @param argb        packed 8-bit sRGB pixels, row-major, {@code 0xAARRGGBB}, straight (not premultiplied)
 *                    alpha; length is {@code width * height}. Shared, not copied: do not modify it
 *                    while others may read the image.
 * @param format      source format: "jpeg", "png", "bmp", "gif", "webp" or "tiff"
 * @param hasAlpha    whether the source declared an alpha channel or transparent palette entry
 * @param orientation EXIF orientation (1–8) that was found and applied; 1 when absent
 */
public record DecodedImage(int width, int height, int[] argb, String format, boolean hasAlpha, int orientation) {

  public DecodedImage {
    if (width <= 0 || height <= 0 || argb == null || argb.length != (long) width * height) {
      throw new IllegalArgumentException("inconsistent image: " + width + "x" + height
          + ", pixels " + (argb == null ? "null" : argb.length));
    }
  }

  /** Number of pixels ({@code width * height}). */
  public int pixelCount() {
    return argb.length;
  }

  /** Fails unless {@code alpha} is a matte of this image: one value per pixel. */
  public void checkMatte(byte[] alpha) {
    Objects.requireNonNull(alpha, "alpha");
    if (alpha.length != argb.length) {
      throw new IllegalArgumentException("alpha has " + alpha.length + " values for a " + width + "x" + height
          + " image");
    }
  }
}
