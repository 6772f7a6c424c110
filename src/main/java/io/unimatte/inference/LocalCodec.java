package io.unimatte.inference;

import io.vertx.core.buffer.Buffer;

/**
 * Passes an object through the local event bus by reference: image tensors are tens of megabytes
 * and must not be copied between verticles of one JVM. It refuses to go on the wire.
 */
public final class LocalCodec<T> extends ReferenceCodec<T> {

  public LocalCodec(Class<T> type) {
    super("local:" + type.getName());
  }

  @Override
  public void encodeToWire(Buffer buffer, T t) {
    throw new UnsupportedOperationException(name() + " is local-only");
  }

  @Override
  public T decodeFromWire(int pos, Buffer buffer) {
    throw new UnsupportedOperationException(name() + " is local-only");
  }
}
