package io.unimatte.batching.impl;

import io.unimatte.batching.BatchFailedException;
import io.unimatte.batching.BatchProcessor;
import io.unimatte.batching.BatchingEngine;
import io.unimatte.batching.EngineException;
import io.unimatte.batching.EngineShutdownException;
import io.unimatte.batching.EngineStats;
import io.unimatte.batching.ItemRef;
import io.unimatte.batching.ProgressEvent;
import io.unimatte.batching.ProgressListener;
import io.unimatte.batching.QueueFullException;
import io.unimatte.batching.QueueTimeoutException;
import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * The engine: a lock-guarded queue in front of one drain thread.
 *
 * <p>A plain lock rather than a {@code BlockingQueue} so that the capacity check, the shutdown flag and
 * the enqueue are one atomic step: no item can slip into the queue after the drain thread's final sweep.
 * Contention is irrelevant next to the cost of an inference call.
 *
 * <p>Longer than most files on purpose: admission, batching, timeouts, shutdown and statistics all touch
 * the same lock-guarded state, and splitting them would spread its invariants over several classes.
 */
final class DefaultBatchingEngine<I, O> implements BatchingEngine<I, O> {

  private static final Logger LOG = Logger.getLogger(DefaultBatchingEngine.class.getName());

  /** Retry-After is sent in whole seconds and "0" would invite an immediate retry storm. */
  static final Duration MIN_RETRY_AFTER = Duration.ofSeconds(1);

  /** Weight of the newest batch in the moving mean used for Retry-After: recent load, but not one outlier. */
  private static final double MEAN_WEIGHT = 0.2;

  /**
   * Deadlines are compared by subtraction (tickers may wrap, like nanoTime); capping durations far below
   * Long.MAX_VALUE keeps those differences from overflowing. Still ~73 years.
   */
  private static final long MAX_NANOS = Long.MAX_VALUE / 4;

  private final String name;
  private final int maxBatchSize;
  private final long maxBatchDelayNanos;
  private final int maxQueueSize;
  private final Duration queueTimeout;
  private final long queueTimeoutNanos;
  private final BatchProcessor<I, O> processor;
  private final ProgressListener listener;
  private final LongSupplier ticker;
  private final LongSupplier clock;
  private final Thread thread;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition notEmpty = lock.newCondition();
  /** Guarded by lock. */
  private final ArrayDeque<Item<I, O>> queue = new ArrayDeque<>();
  /** Guarded by lock. */
  private boolean accepting = true;
  /** Guarded by lock; ticker time after which queued items are no longer processed, valid once !accepting. */
  private long graceDeadline;

  private final CompletableFuture<Void> terminated = new CompletableFuture<>();

  /** Owned by the drain thread: the batch being formed or processed. */
  private final ArrayList<Item<I, O>> batch;

  private final LongAdder submitted = new LongAdder();
  private final LongAdder completed = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final LongAdder rejected = new LongAdder();
  private final LongAdder timedOut = new LongAdder();
  private final LongAdder cancelled = new LongAdder();
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong itemsInBatches = new AtomicLong();
  private final AtomicInteger maxBatchSeen = new AtomicInteger();
  private final AtomicLongArray histogram;
  private final AtomicLong totalBatchNanos = new AtomicLong();
  private final AtomicLong lastBatchNanos = new AtomicLong();
  private final AtomicInteger inFlight = new AtomicInteger();
  /** Moving mean of batch nanos, negative before the first batch; written by the drain thread only. */
  private volatile double meanBatchNanos = -1;
  private final AtomicLong listenerFailures = new AtomicLong();

  private DefaultBatchingEngine(EngineBuilder<I, O> b) {
    this.name = b.name;
    this.maxBatchSize = b.maxBatchSize;
    this.maxBatchDelayNanos = saturatedNanos(b.maxBatchDelay);
    this.maxQueueSize = b.maxQueueSize;
    this.queueTimeout = b.queueTimeout;
    this.queueTimeoutNanos = saturatedNanos(b.queueTimeout);
    this.processor = b.processor;
    this.listener = b.listener;
    this.ticker = b.ticker;
    this.clock = b.clock;
    this.batch = new ArrayList<>(b.maxBatchSize);
    this.histogram = new AtomicLongArray(b.maxBatchSize + 1);
    ThreadFactory factory = b.threadFactory != null ? b.threadFactory : this::defaultThread;
    this.thread = factory.newThread(this::drainLoop);
    if (thread == null) {
      throw new IllegalStateException("threadFactory returned null");
    }
  }

  static <I, O> DefaultBatchingEngine<I, O> start(EngineBuilder<I, O> builder) {
    DefaultBatchingEngine<I, O> engine = new DefaultBatchingEngine<>(builder);
    engine.thread.start();
    return engine;
  }

  private Thread defaultThread(Runnable r) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  // ---------------------------------------------------------------- submit

  @Override
  public CompletableFuture<O> submit(ItemRef ref, I input) {
    submitted.increment();
    if (ref == null || input == null) {
      failed.increment();
      return CompletableFuture.failedFuture(new NullPointerException(ref == null ? "ref" : "input"));
    }
    try {
      Item<I, O> item = new Item<>(ref, input, ticker.getAsLong());
      // Registered before enqueueing so that a cancellation can never be missed.
      item.future.whenComplete((out, err) -> {
        if (!item.taken) {
          forget(item);
        }
      });
      boolean refusedForShutdown = false;
      int fullDepth = -1;
      lock.lock();
      try {
        if (!accepting) {
          refusedForShutdown = true;
        } else if (queue.size() >= maxQueueSize) {
          fullDepth = queue.size();
        } else {
          queue.addLast(item);
          notEmpty.signal();
        }
      } finally {
        lock.unlock();
      }
      if (refusedForShutdown) {
        failed.increment();
        emit(ProgressEvent.failed(ref, EngineException.SHUTTING_DOWN, now()));
        return CompletableFuture.failedFuture(new EngineShutdownException(name));
      }
      if (fullDepth >= 0) {
        rejected.increment();
        emit(ProgressEvent.failed(ref, EngineException.QUEUE_FULL, now()));
        return CompletableFuture.failedFuture(new QueueFullException(fullDepth, retryAfter(fullDepth)));
      }
      return item.future;
    } catch (Throwable t) {
      // Only reachable through a broken ticker or an Error; the contract still says: never throw.
      failed.increment();
      return CompletableFuture.failedFuture(t);
    }
  }

  /** The caller settled a still-queued item: free its slot so it never reaches the processor. */
  private void forget(Item<I, O> item) {
    boolean removed;
    lock.lock();
    try {
      removed = queue.remove(item);
      if (removed) {
        item.taken = true;
      }
    } finally {
      lock.unlock();
    }
    if (removed) {
      settleCancelled(item);
    }
  }

  Duration retryAfter(int depth) {
    double mean = meanBatchNanos;
    if (mean <= 0) {
      return MIN_RETRY_AFTER;
    }
    long batchesAhead = (depth + maxBatchSize - 1L) / maxBatchSize;
    double seconds = Math.ceil(mean * batchesAhead / 1e9);
    return seconds <= MIN_RETRY_AFTER.getSeconds()
        ? MIN_RETRY_AFTER
        : Duration.ofSeconds((long) Math.min(seconds, MAX_NANOS / 1_000_000_000L));
  }

  // ---------------------------------------------------------------- drain thread

  private void drainLoop() {
    Throwable fatal = null;
    try {
      while (true) {
        try {
          if (!nextBatch()) {
            break;
          }
          runBatch();
        } catch (Throwable t) {
          // A bug or an Error outside the processor; the items at hand must not be left pending.
          LOG.log(Level.SEVERE, "event=engine_error engine=" + name + " failing=" + batch.size()
              + " action=continue", t);
          failBatch(t);
        } finally {
          batch.clear();
          inFlight.set(0);
        }
      }
    } catch (Throwable t) {
      fatal = t;
    } finally {
      lock.lock();
      try {
        accepting = false;
      } finally {
        lock.unlock();
      }
      if (fatal != null) {
        LOG.log(Level.SEVERE, "event=engine_died engine=" + name + " action=fail_queued", fatal);
      }
      failQueued();
      terminated.complete(null);
    }
  }

  /**
   * Fills {@link #batch}: blocks for the first live item, takes what is queued at once, then waits for the
   * remainder until maxBatchDelay after the first item was taken. Returns false when the thread should exit.
   * The batch may come back empty when all that was queued had expired.
   */
  private boolean nextBatch() {
    List<Item<I, O>> expired = null;
    lock.lock();
    try {
      while (batch.isEmpty()) {
        if (!accepting && (queue.isEmpty() || ticker.getAsLong() - graceDeadline >= 0)) {
          return false;
        }
        Item<I, O> item = queue.pollFirst();
        if (item == null && expired != null) {
          return true; // fail the expired ones now rather than after the next arrival
        } else if (item == null) {
          // Interrupts are not part of the engine's protocol; shutdown() signals instead.
          notEmpty.awaitUninterruptibly();
        } else {
          expired = admit(item, expired);
        }
      }
      inFlight.set(batch.size());
      long deadline = ticker.getAsLong() + maxBatchDelayNanos;
      long realLeft = maxBatchDelayNanos;
      while (batch.size() < maxBatchSize) {
        Item<I, O> item = queue.pollFirst();
        if (item != null) {
          expired = admit(item, expired);
          inFlight.set(batch.size());
          continue;
        }
        if (!accepting) {
          break; // nothing more can arrive, don't hold the batch back
        }
        long wait = Math.min(deadline - ticker.getAsLong(), realLeft);
        if (wait <= 0) {
          break;
        }
        try {
          realLeft -= wait - notEmpty.awaitNanos(wait);
        } catch (InterruptedException e) {
          // Cleared by the throw; treat as a spurious wake-up.
        }
      }
    } finally {
      lock.unlock();
      if (expired != null) {
        expired.forEach(this::failExpired);
      }
    }
    return true;
  }

  /**
   * Adds a just-polled item to the batch unless it is settled or expired; expired ones are collected to be
   * failed outside the lock, where callers' callbacks may run.
   */
  private List<Item<I, O>> admit(Item<I, O> item, List<Item<I, O>> expired) {
    item.taken = true;
    if (item.future.isDone()) {
      settleCancelled(item);
    } else if (isExpired(item, ticker.getAsLong())) {
      if (expired == null) {
        expired = new ArrayList<>();
      }
      expired.add(item);
    } else {
      batch.add(item);
    }
    return expired;
  }

  private boolean isExpired(Item<I, O> item, long now) {
    return now - item.enqueuedAt > queueTimeoutNanos;
  }

  private void failExpired(Item<I, O> item) {
    Duration waited = Duration.ofNanos(Math.max(0, ticker.getAsLong() - item.enqueuedAt));
    fail(item, new QueueTimeoutException(waited, queueTimeout), timedOut);
  }

  private void runBatch() {
    // Re-check: items may have been cancelled or expired while the batch waited to fill up.
    long now = ticker.getAsLong();
    List<Item<I, O>> expired = null;
    for (int i = batch.size() - 1; i >= 0; i--) {
      Item<I, O> item = batch.get(i);
      if (item.future.isDone()) {
        settleCancelled(item);
        batch.remove(i);
      } else if (isExpired(item, now)) {
        if (expired == null) {
          expired = new ArrayList<>();
        }
        expired.add(0, batch.remove(i));
      }
    }
    int n = batch.size();
    inFlight.set(n);
    if (expired != null) {
      expired.forEach(this::failExpired);
    }
    if (n == 0) {
      return;
    }

    List<I> inputs = new ArrayList<>(n);
    long timestamp = now();
    for (Item<I, O> item : batch) {
      inputs.add(item.input);
      emit(new ProgressEvent(item.ref, ProgressEvent.Stage.INFERRING, timestamp,
          ProgressEvent.UNKNOWN_POSITION, null, n));
    }

    List<O> outputs = null;
    Throwable failure = null;
    long start = ticker.getAsLong();
    try {
      outputs = processor.process(Collections.unmodifiableList(inputs));
    } catch (Throwable t) {
      failure = t; // Errors too: one bad batch (e.g. OOM on a huge image) must not end the engine
    }
    long elapsed = Math.max(0, ticker.getAsLong() - start);
    // The engine does not use interrupts: a flag the processor left set must not leak into our waits.
    Thread.interrupted();
    recordBatch(n, elapsed);

    if (failure == null) {
      if (outputs == null) {
        failure = new IllegalStateException("processor returned null for a batch of " + n);
      } else if (outputs.size() != n) {
        failure = new IllegalStateException(
            "processor returned " + outputs.size() + " outputs for a batch of " + n);
      }
    }
    if (failure != null) {
      LOG.log(Level.WARNING, "event=batch_failed engine=" + name + " size=" + n, failure);
      failBatch(failure);
      return;
    }
    for (int i = 0; i < n; i++) {
      Item<I, O> item = batch.get(i);
      O output = outputs.get(i);
      if (item.future.isDone()) {
        inFlight.decrementAndGet();
        settleCancelled(item);
      } else {
        // Count first: whoever the completion wakes up should already see it in stats().
        item.settled = true;
        completed.increment();
        inFlight.decrementAndGet();
        if (!item.future.complete(output)) {
          completed.decrement(); // lost a race with the caller's cancel
          cancelled.increment();
        }
      }
    }
  }

  private void recordBatch(int n, long elapsedNanos) {
    batches.incrementAndGet();
    itemsInBatches.addAndGet(n);
    histogram.incrementAndGet(n);
    maxBatchSeen.accumulateAndGet(n, Math::max);
    totalBatchNanos.addAndGet(elapsedNanos);
    lastBatchNanos.set(elapsedNanos);
    double mean = meanBatchNanos;
    meanBatchNanos = mean < 0 ? elapsedNanos : mean + MEAN_WEIGHT * (elapsedNanos - mean);
  }

  /** Fails every still-pending item of the current batch. */
  private void failBatch(Throwable cause) {
    int n = batch.size();
    for (Item<I, O> item : batch) {
      if (!item.settled) {
        inFlight.decrementAndGet();
        fail(item, new BatchFailedException(cause, n), failed);
      }
    }
  }

  /** Fails everything still queued with shutting_down; safe from any thread. */
  private void failQueued() {
    List<Item<I, O>> rest;
    lock.lock();
    try {
      rest = new ArrayList<>(queue);
      queue.clear();
      rest.forEach(item -> item.taken = true);
    } finally {
      lock.unlock();
    }
    for (Item<I, O> item : rest) {
      fail(item, new EngineShutdownException(name), failed);
    }
  }

  private void fail(Item<I, O> item, EngineException e, LongAdder counter) {
    if (item.settled) {
      return; // already counted, e.g. completed before an unexpected failure later in the same batch
    }
    if (item.future.isDone()) {
      settleCancelled(item);
      return;
    }
    // Count and report first: whoever the completion wakes up should already see both.
    item.settled = true;
    counter.increment();
    emit(ProgressEvent.failed(item.ref, e.code(), now()));
    if (!item.future.completeExceptionally(e)) {
      counter.decrement(); // lost a race with the caller's cancel
      cancelled.increment();
    }
  }

  // ---------------------------------------------------------------- shutdown

  @Override
  public CompletableFuture<Void> shutdown(Duration grace) {
    Objects.requireNonNull(grace, "grace");
    if (grace.isNegative()) {
      throw new IllegalArgumentException("grace must not be negative but was " + grace);
    }
    long graceNanos = saturatedNanos(grace);
    lock.lock();
    try {
      long deadline = ticker.getAsLong() + graceNanos;
      if (accepting || deadline - graceDeadline < 0) {
        graceDeadline = deadline;
      }
      accepting = false;
      notEmpty.signalAll();
    } finally {
      lock.unlock();
    }
    if (graceNanos == 0) {
      // Right here, not on the engine thread: that one may be stuck in the processor.
      failQueued();
    } else if (!terminated.isDone()) {
      scheduleGraceExpiry(graceNanos);
    }
    return terminated.copy();
  }

  /**
   * The engine thread checks the grace deadline between batches; this real-time backstop covers a batch
   * that outlasts the grace period, so queued callers learn their fate on time.
   */
  private void scheduleGraceExpiry(long graceNanos) {
    CompletableFuture<Void> timer = new CompletableFuture<>();
    timer.completeOnTimeout(null, graceNanos, TimeUnit.NANOSECONDS)
        // async: failing futures runs their callers' callbacks, not for the JDK's shared timer thread
        .thenRunAsync(this::failQueued);
    terminated.whenComplete((v, e) -> timer.cancel(false)); // unschedules the timeout
  }

  @Override
  public void close() {
    CompletableFuture<Void> done = shutdown(Duration.ZERO);
    if (Thread.currentThread() != thread) {
      done.join();
    }
  }

  // ---------------------------------------------------------------- observation

  @Override
  public int queueDepth() {
    lock.lock();
    try {
      return queue.size();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public EngineStats stats() {
    long[] hist = new long[histogram.length()];
    for (int i = 0; i < hist.length; i++) {
      hist[i] = histogram.get(i);
    }
    return new EngineStats(submitted.sum(), completed.sum(), failed.sum(), rejected.sum(), timedOut.sum(),
        cancelled.sum(), batches.get(), itemsInBatches.get(), maxBatchSeen.get(), hist,
        totalBatchNanos.get(), lastBatchNanos.get(), queueDepth(), inFlight.get());
  }

  @Override
  public String toString() {
    return "BatchingEngine[" + name + ", queueDepth=" + queueDepth() + ", inFlight=" + inFlight.get() + "]";
  }

  // ---------------------------------------------------------------- helpers

  private void emit(ProgressEvent event) {
    if (listener == null) {
      return;
    }
    try {
      listener.onEvent(event);
    } catch (Throwable t) {
      // A broken listener would otherwise flood the log once per item: log the 1st, 2nd, 4th, 8th... failure.
      long count = listenerFailures.incrementAndGet();
      if (Long.bitCount(count) == 1) {
        LOG.log(Level.WARNING, "event=progress_listener_failed engine=" + name + " failures=" + count, t);
      }
    }
  }

  /** The caller completed or cancelled the item's future before the engine did. */
  private void settleCancelled(Item<I, O> item) {
    item.settled = true;
    cancelled.increment();
  }

  private long now() {
    return clock.getAsLong();
  }

  private static long saturatedNanos(Duration d) {
    try {
      return Math.min(d.toNanos(), MAX_NANOS);
    } catch (ArithmeticException overflow) {
      return MAX_NANOS;
    }
  }

  private static final class Item<I, O> {
    final ItemRef ref;
    final I input;
    final long enqueuedAt;
    final CompletableFuture<O> future = new CompletableFuture<>();
    /** Set under the lock when the item leaves the queue; whoever sets it settles the item. */
    volatile boolean taken;
    /**
     * Whether the engine has counted the item's outcome. Only the party that set {@link #taken} touches
     * it, so it needs no synchronisation.
     */
    boolean settled;

    Item(ItemRef ref, I input, long enqueuedAt) {
      this.ref = ref;
      this.input = input;
      this.enqueuedAt = enqueuedAt;
    }
  }
}
