package io.unimatte.inference;

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

  /**
   * Runs one batch in a single session call.
   *
   * @param inputs preprocessed images, each {@link ModelDescriptor#inputFloats()} floats, NHWC
   * @return one alpha map per input, {@link ModelDescriptor#outputFloats()} floats in [0, 1]
   */
  List<float[]> run(List<float[]> inputs) throws Exception;

  @Override
  void close();
}
