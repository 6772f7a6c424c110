package io.unimatte.service;

import io.unimatte.error.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * The server's memory budget ({@code server.memoryBudgetBytes}): images enter the pipeline only while
 * what they will need fits, so a burst of large photos waits (or gets 503 {@code memory_busy} with
 * {@code Retry-After}) instead of running the process out of memory.
 *
 * <p>At ready the process's resident memory (both models loaded and warm) and the live Java heap are
 * taken as the base. An image costs {@link #BYTES_PER_PIXEL} of resident memory per pixel from its
 * decoding to its encoded PNG, {@link #HEAP_BYTES_PER_PIXEL} of it Java heap. Images are admitted in
 * arrival order while the images in flight fit both in {@code budget − resident base} and in
 * {@code heap max − live heap − result cache} (counted at the heap's rate); one that needs more than
 * that on its own is refused with 413 {@code image_too_large}, since waiting would not help.
 */
public final class MemoryBudget implements Shareable {
  /**
   * Bytes one pixel costs at the peak of its request: the decoded ARGB image, the upscaled alpha, edge
   * refinement and colour estimation, the RGBA output and its PNG encoding. Measured: one 12-MP JPEG
   * needs 250–390 MB of heap and adds 410–480 MB to the resident memory, heap growth included
   * (docs/PERFORMANCE.md, "Memory"); the budget reckons with the latter.
   */
  public static final long BYTES_PER_PIXEL = 40;
  /**
   * The Java heap one pixel needs at the peak of its request (the rest of {@link #BYTES_PER_PIXEL} is heap
   * the collector keeps committed, and native memory). Measured on the worst test photo (37 % of it soft
   * edge) between the {@code -Xmx} that fails its decode and post-processing and the one that runs them,
   * JVM included: 26–31 bytes per pixel at 12 MP, 25–27 at 48 MP (docs/PERFORMANCE.md, "Heap: peak per
   * in-flight image"); the live heap at ready is counted apart.
   */
  public static final long HEAP_BYTES_PER_PIXEL = 28;
  /** What a refused client is told to wait before sending again. */
  public static final long RETRY_AFTER_SECONDS = 5;
  /** A share of the machine's memory, the default budget ({@code server.memoryBudgetBytes} = 0). */
  static final double DEFAULT_SHARE = 0.75;
  private static final String MAP = "unimatte.memory";
  private static final String KEY = "budget";
  private static final long MIB = 1024 * 1024;
  private static final Logger LOG = Logger.getLogger(MemoryBudget.class.getName());

  private final Vertx vertx;
  private final long budgetBytes;
  private final long heapReserveBytes;
  private final long waitMs;
  private final int maxWaiting;
  private final long heapMaxBytes;
  private final ArrayDeque<Waiter> waiting = new ArrayDeque<>();
  private final AtomicLong admitted = new AtomicLong();
  private final AtomicLong delayed = new AtomicLong();
  private final AtomicLong refusedBusy = new AtomicLong();
  private final AtomicLong refusedTooLarge = new AtomicLong();
  /** A capacity set from outside (tests); -1: computed from the budget, the heap and the base. */
  private final long fixedCapacity;
  private long residentBase = -1;
  private long heapBase = -1;
  private long inFlightBytes;
  private int inFlightImages;

  private MemoryBudget(Vertx vertx, long budgetBytes, long heapReserveBytes, long waitMs, int maxWaiting) {
    this(vertx, budgetBytes, heapReserveBytes, waitMs, maxWaiting, -1);
  }

  private MemoryBudget(Vertx vertx, long budgetBytes, long heapReserveBytes, long waitMs, int maxWaiting,
                       long fixedCapacity) {
    this.vertx = vertx;
    this.fixedCapacity = fixedCapacity;
    this.budgetBytes = budgetBytes;
    this.heapReserveBytes = heapReserveBytes;
    this.waitMs = waitMs;
    this.maxWaiting = maxWaiting;
    long max = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getMax();
    this.heapMaxBytes = max > 0 ? max : Runtime.getRuntime().maxMemory();
  }

  /**
   * The process's budget, made once per Vert.x instance (every HTTP verticle shares it).
   *
   * @param configuredBytes  {@code server.memoryBudgetBytes}; 0 for {@link #DEFAULT_SHARE} of the machine
   * @param heapReserveBytes heap kept for other users that grow on their own (the result cache)
   * @param waitMs           how long an image may wait for room before 503
   * @param maxWaiting       images that may wait at once; more get 503 at once
   */
  public static MemoryBudget create(Vertx vertx, long configuredBytes, long heapReserveBytes, long waitMs,
                                    int maxWaiting) {
    LocalMap<String, MemoryBudget> map = vertx.sharedData().getLocalMap(MAP);
    return map.computeIfAbsent(KEY, k -> new MemoryBudget(vertx, resolve(configuredBytes, ProcessMemory.machineBytes()),
        heapReserveBytes, waitMs, maxWaiting));
  }

  /** A budget whose room for images is {@code capacityBytes}, whatever the process (tests of the admission). */
  static MemoryBudget withCapacity(Vertx vertx, long capacityBytes, long waitMs, int maxWaiting) {
    return new MemoryBudget(vertx, Long.MAX_VALUE, 0, waitMs, maxWaiting, capacityBytes);
  }

  /** This Vert.x instance's budget, or null when none was made (a cluster worker has no image pipeline). */
  public static MemoryBudget of(Vertx vertx) {
    return vertx.sharedData().<String, MemoryBudget>getLocalMap(MAP).get(KEY);
  }

  /** The budget in bytes: the configured one, or the default share of the machine (unlimited if unknown). */
  static long resolve(long configuredBytes, long machineBytes) {
    if (configuredBytes > 0) {
      return configuredBytes;
    }
    return machineBytes > 0 ? (long) (machineBytes * DEFAULT_SHARE) : Long.MAX_VALUE;
  }

  /** What an image of {@code pixels} costs; unknown sizes cost nothing here (decoding refuses them anyway). */
  public static long cost(long pixels) {
    return Math.max(0, pixels) * BYTES_PER_PIXEL;
  }

  /**
   * Takes the base: the resident memory and the live heap with the models loaded and warm. One full
   * collection first, so that the heap base is what is alive, not what is not yet collected.
   */
  public void markReady() {
    System.gc(); // once, at start-up: measures the live heap
    MemoryMXBean heap = ManagementFactory.getMemoryMXBean();
    long resident = ProcessMemory.residentBytes();
    synchronized (this) {
      heapBase = heap.getHeapMemoryUsage().getUsed();
      residentBase = resident;
    }
    LOG.info("event=memory_base residentMb=" + (resident < 0 ? "unknown" : resident / MIB) + " heapLiveMb="
        + heapBase / MIB + " heapMaxMb=" + heapMaxBytes / MIB + " budgetMb=" + mb(budgetBytes)
        + " imagesMb=" + mb(capacity()));
  }

  /** Bytes the images in flight may take together. */
  public synchronized long capacity() {
    if (fixedCapacity >= 0) {
      return fixedCapacity;
    }
    long heapBaseNow = heapBase >= 0 ? heapBase : ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    // the heap's room in the unit of cost(): an image needs HEAP_BYTES_PER_PIXEL of it per pixel
    long byHeap = (heapMaxBytes - heapBaseNow - heapReserveBytes) / HEAP_BYTES_PER_PIXEL * BYTES_PER_PIXEL;
    long byBudget = Long.MAX_VALUE;
    if (budgetBytes != Long.MAX_VALUE) {
      long base = residentBase >= 0 ? residentBase : ProcessMemory.residentBytes();
      byBudget = base >= 0 ? budgetBytes - base : Long.MAX_VALUE;
    }
    return Math.max(0, Math.min(byHeap, byBudget));
  }

  /**
   * Admits an image of {@code costBytes}: at once when it fits and nobody waits before it, else when
   * earlier images finish. Fails with {@code memory_busy} (503) when it waited {@code waitMs} or too
   * many wait already, with {@code image_too_large} (413) when it could never fit.
   */
  public Future<Permit> acquire(long costBytes) {
    Waiter w;
    synchronized (this) {
      long capacity = capacity();
      if (costBytes > capacity) {
        refusedTooLarge.incrementAndGet();
        return Future.failedFuture(new MatteException(ErrorCode.IMAGE_TOO_LARGE, "the image needs about "
            + mb(costBytes) + " MB to process and this server's memory budget leaves " + mb(capacity)
            + " MB for images (server.memoryBudgetBytes, the Java heap -Xmx, imaging.maxPixels)"));
      }
      if (waiting.isEmpty() && inFlightBytes + costBytes <= capacity) {
        return Future.succeededFuture(admit(costBytes));
      }
      if (waiting.size() >= maxWaiting) {
        refusedBusy.incrementAndGet();
        return Future.failedFuture(busy());
      }
      w = new Waiter(costBytes, Promise.promise());
      waiting.addLast(w);
      delayed.incrementAndGet();
    }
    w.timer = vertx.setTimer(waitMs, t -> {
      boolean removed;
      synchronized (this) {
        removed = waiting.remove(w);
      }
      if (removed) {
        refusedBusy.incrementAndGet();
        w.promise.tryFail(busy());
      }
    });
    return w.promise.future();
  }

  private Permit admit(long costBytes) {
    inFlightBytes += costBytes;
    inFlightImages++;
    admitted.incrementAndGet();
    return new Permit(costBytes);
  }

  private void release(long costBytes) {
    List<Waiter> granted = new ArrayList<>();
    synchronized (this) {
      inFlightBytes -= costBytes;
      inFlightImages--;
      long capacity = capacity();
      // in arrival order: a large image at the head is not overtaken by small ones forever
      for (Iterator<Waiter> it = waiting.iterator(); it.hasNext(); ) {
        Waiter w = it.next();
        if (inFlightBytes + w.cost > capacity) {
          break;
        }
        it.remove();
        granted.add(w);
        w.permit = admit(w.cost);
      }
    }
    for (Waiter w : granted) {
      vertx.cancelTimer(w.timer);
      if (!w.promise.tryComplete(w.permit)) {
        w.permit.release(); // timed out at the same moment: give the room back
      }
    }
  }

  private static MatteException busy() {
    return new MatteException(ErrorCode.MEMORY_BUSY, "the images in progress fill this server's memory budget",
        RETRY_AFTER_SECONDS);
  }

  /** For {@code /health}: resident memory, the budget and what the images in flight take of it. */
  public synchronized JsonObject status() {
    return new JsonObject()
        .put("residentBytes", ProcessMemory.residentBytes())
        .put("budgetBytes", budgetBytes == Long.MAX_VALUE ? -1 : budgetBytes)
        .put("residentBaseBytes", residentBase)
        .put("heapMaxBytes", heapMaxBytes)
        .put("imagesCapacityBytes", capacity())
        .put("imagesInFlight", inFlightImages)
        .put("imagesInFlightBytes", inFlightBytes)
        .put("imagesWaiting", waiting.size());
  }

  public long budgetBytes() {
    return budgetBytes;
  }

  public synchronized long inFlightBytes() {
    return inFlightBytes;
  }

  public synchronized int waitingImages() {
    return waiting.size();
  }

  /** Images admitted at once or after a wait, delayed, and refused as busy or as too large. */
  public long[] counts() {
    return new long[] {admitted.get(), delayed.get(), refusedBusy.get(), refusedTooLarge.get()};
  }

  private static String mb(long bytes) {
    return bytes == Long.MAX_VALUE ? "unlimited" : Long.toString(bytes / MIB);
  }

  /** The room an admitted image holds until {@link #release()}; releasing twice is harmless. */
  public final class Permit {
    private final long cost;
    private boolean released;

    private Permit(long cost) {
      this.cost = cost;
    }

    public void release() {
      synchronized (this) {
        if (released) {
          return;
        }
        released = true;
      }
      MemoryBudget.this.release(cost);
    }
  }

  private static final class Waiter {
    final long cost;
    final Promise<Permit> promise;
    long timer;
    Permit permit;

    Waiter(long cost, Promise<Permit> promise) {
      this.cost = cost;
      this.promise = promise;
    }
  }
}
