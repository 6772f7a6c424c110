package io.unimatte.inference;

import io.unimatte.batching.ItemRef;

/**
 * One preprocessed image on its way to the session: by reference on the local event bus, as
 * bytes ({@link InferenceCodecs}) between cluster nodes. The timing fields are written by the
 * inference verticle so the caller can report where time went.
 */
public final class InferenceRequest {
  private final String id;
  private final ItemRef ref;
  private final String model;
  private final ModelInput input;
  volatile long enqueuedNanos;
  volatile long inferStartNanos;
  volatile long inferEndNanos;
  volatile int batchSize;

  public InferenceRequest(ItemRef ref, String model, ModelInput input) {
    this(java.util.UUID.randomUUID().toString(), ref, model, input);
  }

  /** @param id unique per attempt: a worker acknowledges the request under this id */
  public InferenceRequest(String id, ItemRef ref, String model, ModelInput input) {
    this.id = id;
    this.ref = ref;
    this.model = model;
    this.input = input;
  }

  public String id() {
    return id;
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
