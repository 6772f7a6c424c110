package io.unimatte.imaging;

/**
 * Resource limits applied by {@link ImageDecoder} before any pixel is decoded.
 *
 * @param maxBytes  largest accepted encoded input, in bytes
 * @param maxPixels largest accepted width × height (guards against decompression bombs)
 * @param maxFrames largest accepted frame count for multi-frame formats (only the first is decoded)
 */
public record ImageLimits(long maxBytes, long maxPixels, int maxFrames) {

  /** 40 MiB of input, 40 megapixels (a 12 MP photo ×3), 1000 frames. */
  public static final ImageLimits DEFAULTS = new ImageLimits(40L << 20, 40_000_000L, 1000);

  /** Decoded pixels live in one int[]: Java arrays cannot be longer than this. */
  private static final long MAX_ARRAY_LENGTH = Integer.MAX_VALUE - 8;

  public ImageLimits {
    if (maxBytes <= 0 || maxPixels <= 0 || maxFrames <= 0) {
      throw new IllegalArgumentException("limits must be positive: " + maxBytes + ", " + maxPixels + ", " + maxFrames);
    }
    if (maxPixels > MAX_ARRAY_LENGTH || maxBytes > MAX_ARRAY_LENGTH) {
      throw new IllegalArgumentException("limits above " + MAX_ARRAY_LENGTH + " cannot be honoured: " + maxBytes + ", " + maxPixels);
    }
  }
}
