package io.unimatte.cache.impl;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/** Computes {@link io.unimatte.cache.ResultCache#key}. */
public final class ContentKey {
  /** Every JDK must provide it (java.security.MessageDigest contract). */
  private static final String DIGEST = "SHA-256";

  private ContentKey() {
  }

  /**
   * SHA-256 over {@code len(input) input len(model) model len(options) options}, lengths big-endian.
   * The input is length-prefixed too, so no choice of image bytes can shift bytes into the model or
   * options fields and collide with another request's key.
   */
  public static String of(byte[] input, String model, String canonicalOptions) {
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(canonicalOptions, "canonicalOptions");
    MessageDigest md = newDigest();
    md.update(ByteBuffer.allocate(Long.BYTES).putLong(input.length).array());
    md.update(input);
    updateWithLength(md, model);
    updateWithLength(md, canonicalOptions);
    return HexFormat.of().formatHex(md.digest());
  }

  private static void updateWithLength(MessageDigest md, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    md.update(ByteBuffer.allocate(Integer.BYTES).putInt(b.length).array());
    md.update(b);
  }

  private static MessageDigest newDigest() {
    try {
      // A fresh instance per call: MessageDigest is not thread-safe and several worker threads hash at once.
      return MessageDigest.getInstance(DIGEST);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(DIGEST + " is not available in this JDK", e);
    }
  }
}
