package io.unimatte.batching.impl;

import io.unimatte.batching.BatchProcessor;
import io.unimatte.batching.BatchingEngine;
import io.unimatte.batching.ProgressListener;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;
import java.util.function.LongSupplier;

/** {@link BatchingEngine.Builder} implementation; obtain via {@link BatchingEngine#builder()}. */
public final class EngineBuilder<I, O> implements BatchingEngine.Builder<I, O> {

  int maxBatchSize = BatchingEngine.DEFAULT_MAX_BATCH_SIZE;
  Duration maxBatchDelay = BatchingEngine.DEFAULT_MAX_BATCH_DELAY;
  int maxQueueSize = BatchingEngine.DEFAULT_MAX_QUEUE_SIZE;
  Duration queueTimeout = BatchingEngine.DEFAULT_QUEUE_TIMEOUT;
  BatchProcessor<I, O> processor;
  ProgressListener listener;
  LongSupplier ticker = System::nanoTime;
  LongSupplier clock = System::currentTimeMillis;
  ThreadFactory threadFactory;
  String name = BatchingEngine.DEFAULT_NAME;

  @Override
  public EngineBuilder<I, O> maxBatchSize(int maxBatchSize) {
    requireArgument(maxBatchSize >= 1, "maxBatchSize must be >= 1 but was %s", maxBatchSize);
    this.maxBatchSize = maxBatchSize;
    return this;
  }

  @Override
  public EngineBuilder<I, O> maxBatchDelay(Duration maxBatchDelay) {
    Objects.requireNonNull(maxBatchDelay, "maxBatchDelay");
    requireArgument(!maxBatchDelay.isNegative(), "maxBatchDelay must not be negative but was %s",
        maxBatchDelay);
    this.maxBatchDelay = maxBatchDelay;
    return this;
  }

  @Override
  public EngineBuilder<I, O> maxQueueSize(int maxQueueSize) {
    requireArgument(maxQueueSize >= 1, "maxQueueSize must be >= 1 but was %s", maxQueueSize);
    this.maxQueueSize = maxQueueSize;
    return this;
  }

  @Override
  public EngineBuilder<I, O> queueTimeout(Duration queueTimeout) {
    Objects.requireNonNull(queueTimeout, "queueTimeout");
    requireArgument(!queueTimeout.isNegative() && !queueTimeout.isZero(),
        "queueTimeout must be positive but was %s", queueTimeout);
    this.queueTimeout = queueTimeout;
    return this;
  }

  @Override
  public EngineBuilder<I, O> processor(BatchProcessor<I, O> processor) {
    this.processor = Objects.requireNonNull(processor, "processor");
    return this;
  }

  @Override
  public EngineBuilder<I, O> listener(ProgressListener listener) {
    this.listener = Objects.requireNonNull(listener, "listener");
    return this;
  }

  @Override
  public EngineBuilder<I, O> ticker(LongSupplier nanoTicker) {
    this.ticker = Objects.requireNonNull(nanoTicker, "ticker");
    return this;
  }

  @Override
  public EngineBuilder<I, O> clock(LongSupplier currentTimeMillis) {
    this.clock = Objects.requireNonNull(currentTimeMillis, "clock");
    return this;
  }

  @Override
  public EngineBuilder<I, O> threadFactory(ThreadFactory threadFactory) {
    this.threadFactory = Objects.requireNonNull(threadFactory, "threadFactory");
    return this;
  }

  @Override
  public EngineBuilder<I, O> name(String name) {
    Objects.requireNonNull(name, "name");
    requireArgument(!name.isBlank(), "name must not be blank but was '%s'", name);
    this.name = name;
    return this;
  }

  @Override
  public BatchingEngine<I, O> build() {
    if (processor == null) {
      throw new IllegalStateException("processor must be set");
    }
    return DefaultBatchingEngine.start(this);
  }

  private static void requireArgument(boolean ok, String template, Object arg) {
    if (!ok) {
      throw new IllegalArgumentException(String.format(template, arg));
    }
  }
}
