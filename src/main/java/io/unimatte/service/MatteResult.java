package io.unimatte.service;

/**
 * A finished cutout.
 *
 * @param bytes       encoded image
 * @param contentType its media type
 * @param width       width in pixels (after EXIF orientation)
 * @param height      height in pixels
 * @param model       model that made the matte
 * @param batchSize   images that shared the session call
 * @param timing      where the time went
 * @param matteBytes  the grey matte as PNG when asked for ({@code withMatte}), else null
 */
public record MatteResult(byte[] bytes, String contentType, int width, int height, String model, int batchSize,
                          Timing timing, byte[] matteBytes) {

  /** Milliseconds per stage. */
  public record Timing(long decodeMs, long queueMs, long inferMs, long encodeMs) {
    /** As a header value: {@code decode=12;queue=340;infer=2100;encode=45}. */
    public String header() {
      return "decode=" + decodeMs + ";queue=" + queueMs + ";infer=" + inferMs + ";encode=" + encodeMs;
    }
  }
}
