package io.unimatte.inference;

import io.vertx.core.eventbus.MessageCodec;

/**
 * An event-bus codec that hands the object itself to consumers in the same JVM: tensors are
 * megabytes and must not be copied between verticles. Subclasses decide what goes on the wire.
 */
public abstract class ReferenceCodec<T> implements MessageCodec<T, T> {
  private final String name;

  protected ReferenceCodec(String name) {
    this.name = name;
  }

  @Override
  public final T transform(T t) {
    return t;
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final byte systemCodecID() {
    return -1;
  }
}
