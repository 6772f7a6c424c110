package io.unimatte.batching;

import java.util.Objects;

/**
 * Identifies one item: image {@code index} of job {@code jobId}. Only used for progress events and
 * diagnostics; the engine never interprets it and does not require it to be unique.
 */
public record ItemRef(String jobId, int index) {

  public ItemRef {
    Objects.requireNonNull(jobId, "jobId");
    if (index < 0) {
      throw new IllegalArgumentException("index must not be negative but was " + index);
    }
  }

  @Override
  public String toString() {
    return jobId + "#" + index;
  }
}
