package io.unimatte.modelimport.tfjs;

import java.io.IOException;

/** A TF.js model.json or weight shard is malformed or does not match its manifest. */
public final class TfjsFormatException extends IOException {
  public TfjsFormatException(String message) {
    super(message);
  }
}
