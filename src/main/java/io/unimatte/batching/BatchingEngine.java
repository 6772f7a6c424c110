package io.unimatte.batching;

import io.unimatte.batching.impl.EngineBuilder;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadFactory;
import java.util.function.LongSupplier;

/**
 * Accepts single items from many threads and feeds them, in dynamically formed batches, to one
 * {@link BatchProcessor} running on one dedicated thread.
 *
 * <p>Batching rule: the engine thread blocks for the first item, then at once takes whatever else is
 * already queued up to {@code maxBatchSize}, and only if the batch is still short waits for more until
 * {@code maxBatchDelay} after the first item was taken. A full queue never waits.
 *
 * <p>Caveats:
 * <ul>
 *   <li>Futures are completed on the engine thread. Dependent stages attached with the non-async
 *       {@code CompletableFuture} methods run there too and delay the next batch: use the {@code *Async}
 *       variants for anything heavier than a hand-off.</li>
 *   <li>Queue timeouts are checked when a batch is formed, not by a timer: while the processor is stuck,
 *       expired items stay queued until it returns.</li>
 *   <li>The engine thread starts when the engine is built and runs until {@link #shutdown}/{@link #close};
 *       by default it is a daemon thread so a forgotten engine does not keep the JVM alive.</li>
 * </ul>
 *
 * @param <I> input type
 * @param <O> output type
 */
public interface BatchingEngine<I, O> extends AutoCloseable {

  int DEFAULT_MAX_BATCH_SIZE = 8;
  Duration DEFAULT_MAX_BATCH_DELAY = Duration.ofMillis(10);
  int DEFAULT_MAX_QUEUE_SIZE = 256;
  Duration DEFAULT_QUEUE_TIMEOUT = Duration.ofSeconds(60);
  String DEFAULT_NAME = "unimatte-batch";

  /** A builder with the defaults above; only the {@linkplain Builder#processor processor} is required. */
  static <I, O> Builder<I, O> builder() {
    return new EngineBuilder<>();
  }

  /**
   * Queues one item. Never throws: every outcome other than an output arrives as a future failed with an
   * {@link EngineException} ({@link QueueFullException}, {@link QueueTimeoutException},
   * {@link BatchFailedException}, {@link EngineShutdownException}). Null arguments are a programming error
   * and yield a future failed with {@link NullPointerException}.
   *
   * <p>Cancelling (or completing) the returned future before its batch is formed removes the item from
   * the queue; it is then never sent to the processor. Once its batch has started, cancelling only
   * discards the output.
   */
  CompletableFuture<O> submit(ItemRef ref, I input);

  /** A snapshot of the counters; cheap enough to call for every metrics scrape. */
  EngineStats stats();

  /** Items waiting in the queue now, excluding the batch being processed. */
  int queueDepth();

  /**
   * Stops accepting items (later submits fail with {@link EngineShutdownException}) and lets the engine
   * thread go on processing queued items until the queue is empty or {@code grace} has elapsed; whatever is
   * still queued then fails with {@link EngineShutdownException}. A batch already handed to the processor
   * always runs to completion.
   *
   * <p>Idempotent; a later call may shorten the grace period but not extend it. The returned future
   * completes when the engine thread has exited, i.e. after the processor's current call returns, and
   * never exceptionally.
   *
   * @throws IllegalArgumentException if {@code grace} is negative
   */
  CompletableFuture<Void> shutdown(Duration grace);

  /**
   * {@code shutdown(Duration.ZERO).join()}: fails all queued items and waits for the batch in progress.
   * Blocks as long as the processor does. When called from the processor itself it does not wait (that
   * would deadlock).
   */
  @Override
  void close();

  /**
   * Configures and builds an engine. Setters validate eagerly and throw {@link IllegalArgumentException}
   * naming the setting (or {@link NullPointerException} for nulls). A builder may be reused.
   */
  interface Builder<I, O> {

    /** Most items per processor call; {@code >= 1}. */
    Builder<I, O> maxBatchSize(int maxBatchSize);

    /**
     * How long after taking a batch's first item the engine waits for more, if fewer than
     * {@code maxBatchSize} are queued; {@code >= 0}. Zero means: never wait, take what is queued.
     */
    Builder<I, O> maxBatchDelay(Duration maxBatchDelay);

    /** Most items waiting (not counting the batch in progress); {@code >= 1}. */
    Builder<I, O> maxQueueSize(int maxQueueSize);

    /**
     * Items queued longer than this when their batch is formed fail with {@code queue_timeout};
     * {@code > 0}.
     */
    Builder<I, O> queueTimeout(Duration queueTimeout);

    /** Required. */
    Builder<I, O> processor(BatchProcessor<I, O> processor);

    /** Optional; see {@link ProgressListener} for the threading caveats. */
    Builder<I, O> listener(ProgressListener listener);

    /**
     * Monotonic nanosecond time source (default {@link System#nanoTime}) for queue timeouts, batch delay
     * and grace deadlines, and batch durations. Caveat: waits still sleep in real time; an injected ticker
     * can make deadlines pass sooner, but a real-time wait also ends when its duration has passed.
     */
    Builder<I, O> ticker(LongSupplier nanoTicker);

    /**
     * Wall-clock time source in epoch milliseconds for event timestamps (default
     * {@link System#currentTimeMillis}).
     */
    Builder<I, O> clock(LongSupplier currentTimeMillis);

    /**
     * Creates the engine thread. The default makes a daemon thread named after {@link #name}; a custom
     * factory's thread keeps whatever name and daemon status the factory gives it.
     */
    Builder<I, O> threadFactory(ThreadFactory threadFactory);

    /** Name for the engine thread and for messages; not blank. */
    Builder<I, O> name(String name);

    /**
     * Builds the engine and starts its thread.
     *
     * @throws IllegalStateException if no processor was set, or the thread factory returned null
     */
    BatchingEngine<I, O> build();
  }
}
