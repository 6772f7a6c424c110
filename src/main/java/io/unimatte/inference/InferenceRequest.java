package io.unimatte.inference;

import io.unimatte.jobs.ItemRef;

/**
 * One preprocessed image on its way to the session, sent over the local event bus by reference.
 * The timing fields are written by the inference verticle so the caller can report where time went.
 */
public final class InferenceRequest {
  private final ItemRef ref;
  private final String model;
  private final ModelInput input;
  volatile long enqueuedNanos;
  volatile long inferStartNanos;
  volatile long inferEndNanos;
  volatile int batchSize;

  public InferenceRequest(ItemRef ref, String model, ModelInput input) {
    this.ref = ref;
    this.model = model;
    this.input = input;
  }

  public ItemRef ref() {
    return ref;
  }

  public String model() {
    return model;
  }

  public ModelInput input() {
    return input;
  }
}
