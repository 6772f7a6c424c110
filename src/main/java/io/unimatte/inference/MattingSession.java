package io.unimatte.inference;

import io.unimatte.modelimport.ModelDescriptor;
import java.util.List;

/**
 * A loaded matting network. One thread at a time calls {@link #run}: the inference verticle owns
 * the session and is its only caller, so implementations need not be thread-safe.
 */
public interface MattingSession extends AutoCloseable {

  /** The model's contract. */
  ModelDescriptor descriptor();

  /** Where it runs, e.g. {@code "cpu"} or {@code "gpu:0"}. */
  String device();

  /** The arithmetic it runs in: {@code fp32}, {@code bf16} (CPU) or {@code fp16} (GPU). */
  default String precision() {
    return "fp32";
  }

  /** Why it runs in that precision, for {@code /health}; null when there was no choice to make. */
  default String precisionReason() {
    return null;
  }

  /**
   * Runs one batch in a single session call (models that take one image per call get lists of one).
   *
   * @param inputs preprocessed images; for fixed-size models each is {@code size × size}
   * @return one alpha map per input, {@code width × height} floats in [0, 1], row by row
   */
  List<float[]> run(List<ModelInput> inputs) throws Exception;

  @Override
  void close();
}
