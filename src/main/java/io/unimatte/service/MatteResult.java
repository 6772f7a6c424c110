package io.unimatte.service;

import io.unimatte.imaging.MatteConfidence;
import io.unimatte.imaging.output.Foreground;

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
 * @param confidence  how sure the model was of its matte (computed before refinement)
 * @param review      whether a person should check it: the confidence is below {@code imaging.reviewThreshold}
 * @param cacheHit    true when the result cache answered (batch size and timing are then the original run's)
 * @param foreground  the subject's bounding box in the output ({@code X-Foreground-*})
 */
public record MatteResult(byte[] bytes, String contentType, int width, int height, String model, int batchSize,
                          Timing timing, byte[] matteBytes, MatteConfidence confidence, boolean review,
                          boolean cacheHit, Foreground foreground) {

  /** Milliseconds per stage. */
  public record Timing(long decodeMs, long queueMs, long inferMs, long encodeMs) {
    /** Parses {@link #header()}; zeros for missing or broken parts. */
    public static Timing parse(String header) {
      long[] v = new long[4];
      String[] names = {"decode", "queue", "infer", "encode"};
      for (String part : header == null ? new String[0] : header.split(";")) {
        String[] kv = part.split("=", 2);
        for (int i = 0; i < names.length; i++) {
          if (kv.length == 2 && kv[0].trim().equals(names[i])) {
            try {
              v[i] = Long.parseLong(kv[1].trim());
            } catch (NumberFormatException e) {
              v[i] = 0;
            }
          }
        }
      }
      return new Timing(v[0], v[1], v[2], v[3]);
    }

    /** As a header value: {@code decode=12;queue=340;infer=2100;encode=45}. */
    public String header() {
      return "decode=" + decodeMs + ";queue=" + queueMs + ";infer=" + inferMs + ";encode=" + encodeMs;
    }
  }
}
