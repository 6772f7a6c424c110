package io.unimatte.inference;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.unimatte.modelimport.ModelDescriptor;
import io.unimatte.config.AppConfig;
import io.unimatte.batching.BatchingEngine;
import io.unimatte.batching.EngineException;
import io.unimatte.batching.EngineStats;
import io.unimatte.batching.ProgressEvent;
import io.unimatte.batching.QueueFullException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.backends.BackendRegistries;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * Owns the model session: the only code that calls it. Deploy it as a worker
 * ({@code ThreadingModel.WORKER}): loading and warming the model block for seconds.
 *
 * <p>Requests arrive on {@link #ADDRESS} as {@link InferenceRequest}s and enter a bounded batching
 * queue; the engine's single thread runs one session call per batch. Replies are
 * {@link InferenceReply}s; domain errors (full queue, timeout, failed batch) travel inside the
 * reply so the caller gets a stable code, not a transport failure.
 */
public final class InferenceVerticle extends VerticleBase {
  /** Prefix of the event-bus address of each model's inference requests. */
  public static final String ADDRESS_PREFIX = "unimatte.inference.";
  /** Prefix of the event-bus address answering a model's engine status and counters. */
  public static final String STATUS_ADDRESS_PREFIX = "unimatte.status.";
  /** Event-bus address of per-image progress events (JSON). */
  public static final String PROGRESS_ADDRESS = "unimatte.progress";
  /** Published ({@code {deployment, model}}) when the session keeps failing and wants a fresh start. */
  public static final String DEAD_ADDRESS = "unimatte.inference.dead";
  /** Local shared map (model name → status JSON) where readiness is published for {@code /health}. */
  public static final String STATUS_MAP = "unimatte.status";
  /** Side of the warm-up image of models that take any size (their first calls are slow too). */
  private static final int ANY_SIZE_WARMUP_SIDE = 256;
  /** {@link MattingSession#device()} of a session on the CPU. */
  private static final String CPU_DEVICE = "cpu";
  /**
   * Cluster mode: a worker publishes {@code {id, node}} here as soon as it receives a request, so
   * the front knows which node holds it and can send it again if that node dies.
   */
  public static final String CLAIMS_ADDRESS = "unimatte.inference.claims";
  /** Cluster mode: each worker publishes its status (with {@code node}) here periodically. */
  public static final String WORKERS_ADDRESS = "unimatte.inference.workers";
  /** Deployment-config key of this node's cluster id; absent on a single machine. */
  public static final String NODE_KEY = "clusterNode";
  /** Deployment-config key of the status announcement period (cluster mode). */
  public static final String STATUS_INTERVAL_KEY = "statusIntervalMs";

  private static final Logger LOG = Logger.getLogger(InferenceVerticle.class.getName());

  private final Supplier<MattingSession> sessionFactory;
  private MattingSession session;
  private BatchingEngine<InferenceRequest, float[]> engine;
  private EngineMeters meters;
  private Supplier<EngineStats> engineStats;
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  private long shutdownGraceMs;
  private int restartAfterFailures;
  private int consecutiveFailures;
  private volatile int memoryCap = Integer.MAX_VALUE;
  private final java.util.concurrent.atomic.AtomicBoolean restartRequested = new java.util.concurrent.atomic.AtomicBoolean();
  private long readyAtMillis;
  private int maxBatch;
  private String nodeId;
  private long coldStartMillis;
  private QueueGauge gauge;

  /**
   * @param sessionFactory opens the session (called on this worker's thread, may block); the
   *                       verticle closes the session when undeployed
   */
  public InferenceVerticle(Supplier<MattingSession> sessionFactory) {
    this.sessionFactory = sessionFactory;
  }

  /** Where requests for {@code model} go. */
  public static String address(String model) {
    return ADDRESS_PREFIX + model;
  }

  /** Where {@code model}'s engine answers status requests. */
  public static String statusAddress(String model) {
    return STATUS_ADDRESS_PREFIX + model;
  }

  /** Registers the codecs of the message types; idempotent per event bus. */
  public static void registerCodecs(EventBus bus) {
    InferenceCodecs.register(bus);
  }

  @Override
  public Future<?> start() {
    long t0 = System.nanoTime();
    JsonObject cfg = config();
    registerCodecs(vertx.eventBus());
    session = sessionFactory.get();
    warmUp(AppConfig.requireInt(cfg, "warmupRuns"), AppConfig.requireInt(cfg, "maxBatchSize"));
    shutdownGraceMs = AppConfig.requireLong(cfg, "shutdownGraceMs");
    restartAfterFailures = AppConfig.requireInt(cfg, "restartAfterFailedBatches");
    EventBus bus = vertx.eventBus();
    ModelDescriptor d = session.descriptor();
    // models that take one image per call are never batched
    maxBatch = d.batched() ? batchLimit(AppConfig.requireInt(cfg, "maxBatchSize"),
        AppConfig.requireInt(cfg, "cpuMaxBatchSize"), session.device()) : 1;
    engine = BatchingEngine.<InferenceRequest, float[]>builder()
        .name("unimatte-session-" + d.name())
        .maxBatchSize(maxBatch)
        .maxBatchDelay(Duration.ofMillis(AppConfig.requireLong(cfg, "maxBatchDelayMs")))
        .maxQueueSize(AppConfig.requireInt(cfg, "maxQueueSize"))
        .queueTimeout(Duration.ofMillis(AppConfig.requireLong(cfg, "queueTimeoutMs")))
        .processor(this::process)
        .listener(e -> bus.publish(PROGRESS_ADDRESS, progressJson(e)))
        .build();
    gauge = new QueueGauge(engine, AppConfig.requireInt(cfg, "maxQueueSize"), maxBatch);
    engineStats = this::stats;
    meters = EngineMeters.attach(meterRegistry(), d.name(), engineStats, maxBatch);
    // consumer(), not localConsumer(): on a clustered bus the fronts of every node reach it
    consumers.add(bus.<InferenceRequest>consumer(address(d.name()), this::onRequest));
    consumers.add(bus.<JsonObject>consumer(statusAddress(d.name()), m -> m.reply(status())));
    nodeId = cfg.getString(NODE_KEY);
    if (nodeId != null) {
      long every = AppConfig.requireLong(cfg, STATUS_INTERVAL_KEY);
      bus.publish(WORKERS_ADDRESS, status().put("node", nodeId));
      vertx.setPeriodic(every, every, t -> bus.publish(WORKERS_ADDRESS, status().put("node", nodeId)));
    }
    coldStartMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    readyAtMillis = System.currentTimeMillis();
    vertx.sharedData().<String, JsonObject>getLocalMap(STATUS_MAP).put(d.name(), status());
    vertx.sharedData().<String, QueueGauge>getLocalMap(QueueGauge.MAP).put(d.name(), gauge);
    LOG.info("event=inference_ready model=" + d.name() + " device=" + session.device() + " maxBatch=" + maxBatch
        + " coldStartMs=" + coldStartMillis);
    return Future.succeededFuture();
  }

  /**
   * The batch size a session gets: {@code maxBatchSize}, capped on a CPU by {@code cpuMaxBatchSize}
   * (0: no cap). On CPU a batch costs as much per image as single calls but multiplies the memory of
   * the activations (docs/PERFORMANCE.md, "Memory"), so the default cap there is 1.
   */
  static int batchLimit(int maxBatchSize, int cpuMaxBatchSize, String device) {
    boolean cpu = device == null || device.startsWith(CPU_DEVICE);
    return cpu && cpuMaxBatchSize > 0 ? Math.min(maxBatchSize, cpuMaxBatchSize) : maxBatchSize;
  }

  /** The first session calls are slow (graph optimisation, kernel selection): pay for them before ready. */
  private void warmUp(int runs, int maxBatch) {
    ModelDescriptor d = session.descriptor();
    try {
      for (int i = 0; i < runs; i++) {
        long t = System.nanoTime();
        int side = d.input().size() > 0 ? d.input().size() : ANY_SIZE_WARMUP_SIDE;
        session.run(List.of(new ModelInput(new float[side * side * 3], side, side)));
        LOG.info("event=warmup model=" + d.name() + " run=" + (i + 1) + " batch=1 ms="
            + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t));
      }
    } catch (Exception e) {
      throw new IllegalStateException("model '" + d.name() + "' failed its warm-up run: " + e.getMessage(), e);
    }
  }

  private List<float[]> process(List<InferenceRequest> batch) throws Exception {
    long start = System.nanoTime();
    List<ModelInput> inputs = new ArrayList<>(batch.size());
    for (InferenceRequest r : batch) {
      r.inferStartNanos = start;
      r.batchSize = batch.size();
      inputs.add(r.input());
    }
    List<float[]> out;
    try {
      out = runWithinMemory(inputs);
      consecutiveFailures = 0;
    } catch (Exception | Error e) {
      if (++consecutiveFailures >= restartAfterFailures && restartRequested.compareAndSet(false, true)) {
        LOG.warning("event=inference_unhealthy model=" + session.descriptor().name() + " failedBatches="
            + consecutiveFailures + " action=redeploy");
        vertx.eventBus().publish(DEAD_ADDRESS, new JsonObject().put("deployment", deploymentID())
            .put("model", session.descriptor().name()));
      }
      throw e;
    }
    long end = System.nanoTime();
    for (InferenceRequest r : batch) {
      r.inferEndNanos = end;
    }
    LOG.fine(() -> "event=batch size=" + batch.size() + " ms=" + TimeUnit.NANOSECONDS.toMillis(end - start));
    return out;
  }

  /**
   * Runs the batch, in smaller pieces when the device runs out of memory: the batch is halved
   * until it fits, and later batches are cut to the size that worked.
   */
  private List<float[]> runWithinMemory(List<ModelInput> inputs) throws Exception {
    int cap = memoryCap; // read once: a nested split may lower it while this loop runs
    if (inputs.size() > cap) {
      List<float[]> out = new ArrayList<>(inputs.size());
      for (int i = 0; i < inputs.size(); i += cap) {
        out.addAll(runWithinMemory(inputs.subList(i, Math.min(inputs.size(), i + cap))));
      }
      return out;
    }
    try {
      return timedRun(inputs);
    } catch (OutOfMemoryError | RuntimeException e) {
      if (inputs.size() < 2 || !isOutOfMemory(e)) {
        throw e;
      }
      memoryCap = Math.max(1, inputs.size() / 2);
      LOG.warning("event=batch_out_of_memory size=" + inputs.size() + " action=split newCap=" + memoryCap);
      return runWithinMemory(inputs);
    }
  }

  /** One session call, timed into {@code unimatte_inference_seconds} whether it succeeds or not. */
  private List<float[]> timedRun(List<ModelInput> inputs) throws Exception {
    long start = System.nanoTime();
    try {
      return session.run(inputs);
    } finally {
      meters.recordCall(System.nanoTime() - start);
    }
  }

  /**
   * The process's registry (the default one, set up by {@code MetricsApi.enable}); without it, as in a
   * Vert.x started without metrics, meters go to an empty composite, which keeps nothing.
   */
  private static MeterRegistry meterRegistry() {
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    return registry != null ? registry : new CompositeMeterRegistry();
  }

  static boolean isOutOfMemory(Throwable e) {
    String m = String.valueOf(e.getMessage());
    return e instanceof OutOfMemoryError || m.contains("OOM") || m.contains("ResourceExhausted")
        || m.toLowerCase(java.util.Locale.ROOT).contains("out of memory");
  }

  private void onRequest(Message<InferenceRequest> msg) {
    InferenceRequest req = msg.body();
    if (nodeId != null) {
      vertx.eventBus().publish(CLAIMS_ADDRESS, new JsonObject().put("id", req.id()).put("node", nodeId));
    }
    if (!session.descriptor().name().equals(req.model())) {
      msg.reply(InferenceReply.error("unknown_model", "model '" + req.model() + "' is not loaded", 0));
      return;
    }
    req.enqueuedNanos = System.nanoTime();
    engine.submit(req.ref(), req).whenComplete((alpha, err) -> {
      if (err == null) {
        msg.reply(InferenceReply.ok(alpha, req.batchSize,
            TimeUnit.NANOSECONDS.toMillis(req.inferStartNanos - req.enqueuedNanos),
            TimeUnit.NANOSECONDS.toMillis(req.inferEndNanos - req.inferStartNanos)));
        return;
      }
      Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
      if (cause instanceof QueueFullException full) {
        msg.reply(InferenceReply.error(full.code(), "the inference queue is full",
            Math.max(1, full.retryAfter().toSeconds())));
      } else if (cause instanceof EngineException ee) {
        msg.reply(InferenceReply.error(ee.code(), ee.getMessage(), 0));
      } else {
        LOG.warning("event=inference_error job=" + req.ref().jobId() + " item=" + req.ref().index()
            + " error=" + cause);
        msg.reply(InferenceReply.error("inference_failed", "the model failed on this image", 0));
      }
    });
  }

  private JsonObject status() {
    EngineStats s = stats();
    JsonArray histogram = new JsonArray();
    long[] h = s.batchSizeHistogram();
    for (int i = 1; i < h.length; i++) {
      histogram.add(h[i]);
    }
    return new JsonObject()
        .put("status", "ready")
        .put("model", session.descriptor().name())
        .put("device", session.device())
        .put("precision", session.precision())
        .put("precisionReason", session.precisionReason())
        .put("contract", session.descriptor().contract().id())
        .put("batched", session.descriptor().batched())
        .put("maxBatchSize", maxBatch)
        .put("sessions", session.descriptor().sessions())
        .put("inputSize", session.descriptor().input().size())
        .put("coldStartMs", coldStartMillis)
        .put("readyAt", readyAtMillis)
        .put("queueDepth", engine.queueDepth())
        .put("submitted", s.submitted())
        .put("completed", s.completed())
        .put("failed", s.failed())
        .put("rejected", s.rejected())
        .put("timedOut", s.timedOut())
        .put("batches", s.batches())
        .put("batchMillis", s.totalBatchNanos() / 1_000_000)
        .put("maxBatchSeen", s.maxBatchSeen())
        .put("batchSizeHistogram", histogram);
  }

  /**
   * The engine's figures, with the uploads the HTTP layer refused before reading them (the queue was full)
   * counted as rejected like the queue's own refusals.
   */
  private EngineStats stats() {
    EngineStats s = engine.stats();
    long early = gauge == null ? 0 : gauge.refusedBeforeUpload();
    if (early == 0) {
      return s;
    }
    return new EngineStats(s.submitted(), s.completed(), s.failed(), s.rejected() + early, s.timedOut(),
        s.cancelled(), s.batches(), s.itemsInBatches(), s.maxBatchSeen(), s.batchSizeHistogram(),
        s.totalBatchNanos(), s.lastBatchNanos(), s.queueDepth(), s.inFlight());
  }

  static JsonObject progressJson(ProgressEvent e) {
    JsonObject j = new JsonObject()
        .put("type", "progress")
        .put("jobId", e.ref().jobId())
        .put("index", e.ref().index())
        .put("stage", e.stage().name().toLowerCase())
        .put("ts", e.timestampMillis());
    if (e.queuePosition() >= 0) {
      j.put("queuePosition", e.queuePosition());
    }
    if (e.batchSize() > 0) {
      j.put("batchSize", e.batchSize());
    }
    if (e.errorCode() != null) {
      j.put("code", e.errorCode());
    }
    return j;
  }

  @Override
  public Future<?> stop() {
    vertx.sharedData().getLocalMap(STATUS_MAP).remove(session.descriptor().name());
    // a redeployed verticle may already have put its own gauge
    if (gauge != null) {
      vertx.sharedData().<String, QueueGauge>getLocalMap(QueueGauge.MAP).removeIfPresent(session.descriptor().name(), gauge);
    }
    Promise<Void> done = Promise.promise();
    List<Future<Void>> unregs = new ArrayList<>();
    consumers.forEach(c -> unregs.add(c.unregister()));
    engine.shutdown(Duration.ofMillis(shutdownGraceMs)).whenComplete((v, e) -> {
      meters.detach(engineStats);
      session.close();
      LOG.info("event=inference_stopped model=" + session.descriptor().name());
      done.complete();
    });
    return Future.all(unregs).transform(ar -> done.future());
  }
}
