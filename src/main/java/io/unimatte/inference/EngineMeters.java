package io.unimatte.inference;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.unimatte.batching.EngineStats;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * A model's batching-engine counters as Micrometer meters tagged {@code model}: images
 * submitted/completed/failed/rejected/timed out, batches, batches by size, queue depth, and the
 * {@code unimatte_inference_seconds} histogram of session calls.
 *
 * <p>One set per model and registry, because meter ids are: a model with several sessions runs one
 * engine per session, and a redeployed model gets a new engine. The meters therefore sum the live
 * engines plus the last counts of the stopped ones, so counters never go back.
 */
final class EngineMeters {
  /** Upper bounds (seconds) of the session-call histogram: a small model on a GPU to a large CPU batch. */
  private static final double[] INFERENCE_BUCKETS_SECONDS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
      10, 30};
  private static final String MODEL = "model";
  /** Per registry, weakly: a closed Vert.x drops its registry, and with it these. */
  private static final Map<MeterRegistry, Map<String, EngineMeters>> BY_REGISTRY = new WeakHashMap<>();

  // no reference to the registry here: it is the weak key above
  private final String model;
  private final List<Supplier<EngineStats>> live = new ArrayList<>();
  private final List<EngineStats> stopped = new ArrayList<>();
  private final Timer sessionCalls;
  private int sizesRegistered;

  private EngineMeters(MeterRegistry registry, String model) {
    this.model = model;
    counter(registry, "unimatte.images.submitted", "images offered to the inference queue", EngineStats::submitted);
    counter(registry, "unimatte.images.completed", "images the model finished", EngineStats::completed);
    counter(registry, "unimatte.images.failed", "images that failed in the engine", EngineStats::failed);
    counter(registry, "unimatte.images.rejected", "images refused with queue_full", EngineStats::rejected);
    counter(registry, "unimatte.images.timed.out", "images that waited past queueTimeoutMs", EngineStats::timedOut);
    counter(registry, "unimatte.batches", "batches handed to the model", EngineStats::batches);
    Gauge.builder("unimatte.queue.depth", this, EngineMeters::queueDepth).description("images waiting for the model")
        .tag(MODEL, model).register(registry);
    sessionCalls = Timer.builder("unimatte.inference").description("time of each session call (one per batch, "
            + "more when a batch is split to fit in memory)")
        .tag(MODEL, model)
        .serviceLevelObjectives(Arrays.stream(INFERENCE_BUCKETS_SECONDS)
            .mapToObj(s -> Duration.ofNanos((long) (s * TimeUnit.SECONDS.toNanos(1)))).toArray(Duration[]::new))
        .register(registry);
  }

  /**
   * Counts {@code engine} under {@code model} from now on (registering the model's meters on first
   * use, and the batch-size series up to {@code maxBatch}).
   *
   * @return the model's meters, to record session calls and to {@link #detach} the engine
   */
  static EngineMeters attach(MeterRegistry registry, String model, Supplier<EngineStats> engine, int maxBatch) {
    EngineMeters meters;
    synchronized (BY_REGISTRY) {
      meters = BY_REGISTRY.computeIfAbsent(registry, r -> new HashMap<>())
          .computeIfAbsent(model, m -> new EngineMeters(registry, m));
    }
    meters.add(registry, engine, maxBatch);
    return meters;
  }

  private synchronized void add(MeterRegistry registry, Supplier<EngineStats> engine, int maxBatch) {
    live.add(engine);
    for (int size = sizesRegistered + 1; size <= maxBatch; size++) {
      int s = size;
      counter(registry, "unimatte.batch.size", "batches by size", st -> st.batchesOfSize(s), "size",
          Integer.toString(s));
    }
    sizesRegistered = Math.max(sizesRegistered, maxBatch);
  }

  /** Keeps the stopped {@code engine}'s final counts and stops reading it. */
  synchronized void detach(Supplier<EngineStats> engine) {
    // one step under the lock, so a scrape never sees the engine twice or not at all
    if (live.remove(engine)) {
      stopped.add(engine.get());
    }
  }

  /** Records one session call. */
  void recordCall(long nanos) {
    sessionCalls.record(nanos, TimeUnit.NANOSECONDS);
  }

  private void counter(MeterRegistry registry, String name, String help, ToLongFunction<EngineStats> field,
                       String... tags) {
    FunctionCounter.builder(name, this, m -> m.sum(field)).description(help).tag(MODEL, model).tags(tags)
        .register(registry);
  }

  private synchronized double sum(ToLongFunction<EngineStats> field) {
    long total = 0;
    for (Supplier<EngineStats> engine : live) {
      total += field.applyAsLong(engine.get());
    }
    for (EngineStats s : stopped) {
      total += field.applyAsLong(s);
    }
    return total;
  }

  private synchronized double queueDepth() {
    return live.stream().mapToInt(e -> e.get().queueDepth()).sum();
  }
}
