package io.unimatte.imaging;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * Splitting one large image's work over several cores, when the caller allows it. By default every
 * imaging call runs on its caller's thread alone: the server already runs several images at once on
 * its imaging pool, and splitting an image while the other cores are busy only adds overhead. A caller
 * that knows cores are idle (the matting service, when the pool has no other image in hand) wraps the
 * work in {@link #with}, and loops written with {@link #forRange} then hand parts of their range to
 * helper threads. Results never depend on the split: each part writes its own rows.
 */
public final class Parallel {

  private static final Logger LOG = Logger.getLogger(Parallel.class.getName());
  /** Parts a call may use on this thread now (1: no split). */
  private static final ThreadLocal<Integer> PARTS = ThreadLocal.withInitial(() -> 1);
  /** Helper threads, shared by all callers; daemon, so they never hold the JVM open. */
  private static final ExecutorService HELPERS = Executors.newCachedThreadPool(new ThreadFactory() {
    private final AtomicInteger n = new AtomicInteger();

    @Override
    public Thread newThread(Runnable r) {
      Thread t = new Thread(r, "unimatte-imaging-split-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    }
  });

  private Parallel() {
  }

  /** A loop body over {@code [from, to)}. */
  @FunctionalInterface
  public interface RangeBody {
    void run(int from, int to);
  }

  /** Runs {@code work} with up to {@code parts} parts per split loop on this thread (1: none). */
  public static <T> T with(int parts, Supplier<T> work) {
    if (parts < 1) {
      throw new IllegalArgumentException("parts must be at least 1: " + parts);
    }
    Integer before = PARTS.get();
    PARTS.set(parts);
    try {
      return work.get();
    } finally {
      PARTS.set(before);
    }
  }

  /** Parts a split loop on this thread may use now. */
  public static int parts() {
    return PARTS.get();
  }

  /**
   * How many parts a loop over {@code n} items splits into: at most {@link #parts()}, and none smaller
   * than {@code minPerPart} items (below that the hand-over costs more than it saves).
   */
  public static int partsFor(int n, int minPerPart) {
    return Math.max(1, Math.min(parts(), n / Math.max(1, minPerPart)));
  }

  /**
   * Runs {@code body} over {@code [0, n)} cut into {@link #partsFor} contiguous ranges, the first on
   * this thread and the others on helpers; returns when all are done. An exception of any part is
   * thrown here.
   */
  public static void forRange(int n, int minPerPart, RangeBody body) {
    int parts = partsFor(n, minPerPart);
    if (parts == 1) {
      body.run(0, n);
      return;
    }
    Future<?>[] others = new Future<?>[parts - 1];
    for (int p = 1; p < parts; p++) {
      int from = (int) ((long) n * p / parts);
      int to = (int) ((long) n * (p + 1) / parts);
      others[p - 1] = HELPERS.submit(() -> body.run(from, to));
    }
    RuntimeException failure = null;
    try {
      body.run(0, (int) ((long) n / parts));
    } catch (RuntimeException e) {
      failure = e;
    }
    for (Future<?> f : others) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        failure = failure != null ? failure : new IllegalStateException("interrupted", e);
      } catch (java.util.concurrent.ExecutionException e) {
        Throwable c = e.getCause();
        if (c instanceof Error err) {
          throw err;
        }
        if (failure == null) {
          failure = c instanceof RuntimeException re ? re : new IllegalStateException(c);
        } else {
          LOG.fine(() -> "event=split_part_failed also=" + c);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
