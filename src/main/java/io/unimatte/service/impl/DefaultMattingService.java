package io.unimatte.service.impl;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.micrometer.backends.BackendRegistries;
import io.unimatte.error.ErrorCode;
import io.unimatte.cluster.InferenceRouter;
import io.unimatte.config.AppConfig;
import io.unimatte.imaging.output.OutputRenderer;
import io.unimatte.imaging.output.QualitySettings;
import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.ImageDecodeException;
import io.unimatte.imaging.ImageDecoder;
import io.unimatte.imaging.ImageLimits;
import io.unimatte.imaging.MatteConfidence;
import io.unimatte.imaging.Parallel;
import io.unimatte.imaging.PngEncoder;
import io.unimatte.imaging.Resizer;
import io.unimatte.imaging.WebpEncoder;
import io.unimatte.inference.InferenceReply;
import io.unimatte.inference.InferenceRequest;
import io.unimatte.inference.InferenceVerticle;
import io.unimatte.inference.ModelCatalog;
import io.unimatte.modelimport.ModelDescriptor;
import io.unimatte.inference.ModelInput;
import io.unimatte.inference.QueueGauge;
import io.unimatte.batching.ItemRef;
import io.unimatte.service.MemoryBudget;
import io.unimatte.service.MatteException;
import io.unimatte.service.MatteRequest;
import io.unimatte.service.MatteResult;
import io.unimatte.service.MattingService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;

import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/** The pipeline of {@link MattingService}. */
public final class DefaultMattingService implements MattingService {
  /** Histogram buckets of the confidence score (0..1). */
  private static final double[] CONFIDENCE_BUCKETS = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0};
  private static final Logger LOG = Logger.getLogger(DefaultMattingService.class.getName());

  /** Cores this process may use: no image is split into more parts than this. */
  private static final int CORES = Runtime.getRuntime().availableProcessors();

  private final Vertx vertx;
  private final WorkerExecutor pool;
  private final int poolSize;
  /** Imaging-pool tasks of this service running now (decode or post-processing). */
  private final AtomicInteger busy = new AtomicInteger();
  private final ModelCatalog models;
  private final ImageDecoder decoder;
  private final PngEncoder png;
  private final WebpEncoder webp;
  private final QualitySettings quality;
  private final DeliveryOptions delivery;
  /** Null when the process runs without metrics (Vert.x started without a registry). */
  private final DistributionSummary confidence;
  private final Counter reviews;
  /** Null: no budget (tests of the pipeline alone). */
  private final MemoryBudget budget;

  public DefaultMattingService(Vertx vertx, JsonObject imaging, ModelCatalog models, long replyTimeoutMs) {
    this(vertx, imaging, models, replyTimeoutMs, null);
  }

  /** @param budget admits each image before it is decoded; null admits everything */
  public DefaultMattingService(Vertx vertx, JsonObject imaging, ModelCatalog models, long replyTimeoutMs,
                               MemoryBudget budget) {
    this.vertx = vertx;
    this.budget = budget;
    this.models = models;
    this.poolSize = AppConfig.requireInt(imaging, "workerPoolSize");
    this.pool = vertx.createSharedWorkerExecutor(IMAGING_POOL, poolSize);
    this.decoder = new ImageDecoder(new ImageLimits(AppConfig.requireLong(imaging, "maxBytes"),
        AppConfig.requireLong(imaging, "maxPixels"), AppConfig.requireInt(imaging, "maxFrames")));
    this.png = new PngEncoder(PngEncoder.Deflate.parse(AppConfig.requireString(imaging, "pngDeflate")),
        AppConfig.requireInt(imaging, "pngCompressionLevel"));
    this.webp = new WebpEncoder(AppConfig.requireBoolean(imaging, "webp"), AppConfig.requireInt(imaging, "webpEffort"));
    // loads the native encoder now, at start-up, not on an event loop when the first format=webp arrives
    LOG.info("event=webp_output available=" + webp.available()
        + (webp.available() ? "" : " reason=\"" + webp.unavailableReason() + "\""));
    this.quality = QualitySettings.fromConfig(imaging);
    this.delivery = new DeliveryOptions().setLocalOnly(true).setSendTimeout(replyTimeoutMs);
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    this.confidence = registry == null ? null : DistributionSummary.builder("unimatte.matte.confidence")
        .description("confidence score of each matte the model made (cache hits not counted)")
        .serviceLevelObjectives(CONFIDENCE_BUCKETS).register(registry);
    this.reviews = registry == null ? null : Counter.builder("unimatte.matte.review")
        .description("mattes flagged for review (confidence below imaging.reviewThreshold)").register(registry);
  }

  /** The decoded photo, its model input and the decoded background photo ({@code bg_image}) or null. */
  private record Prepared(DecodedImage image, ModelInput input, DecodedImage background, long decodeMs) {
  }

  @Override
  public Future<MatteResult> matte(MatteRequest req) {
    ItemRef ref = new ItemRef(req.jobId(), req.index());
    String name = req.model() == null ? models.defaultModel() : req.model();
    ModelDescriptor model = models.get(name).orElse(null);
    if (model == null) {
      MatteException unknown = unavailable(name);
      publish(ref, "failed", unknown.code());
      return Future.failedFuture(unknown);
    }
    if (req.options().format().equals("webp") && !webp.available()) {
      // refused before the queue: the model's time is not spent on an answer that cannot be written
      MatteException off = new MatteException(ErrorCode.OUTPUT_FORMAT_UNAVAILABLE, webp.unavailableReason()
          + "; use png or jpg");
      publish(ref, "failed", off.code());
      return Future.failedFuture(off);
    }
    publish(ref, "queued", null);
    // room in the memory budget first (from the header's size), then the decoding that takes it
    Future<MemoryBudget.Permit> admitted = budget == null ? Future.succeededFuture(null)
        : pool.<Long>executeBlocking(() -> decoder.pixels(req.data()), false)
            .compose(pixels -> budget.acquire(MemoryBudget.cost(pixels)));
    return admitted.compose(permit -> pipeline(req, ref, model)
            .onComplete(ar -> {
              if (permit != null) {
                permit.release();
              }
            }))
        .onSuccess(res -> {
          if (confidence != null) {
            confidence.record(res.confidence().score());
            if (res.review()) {
              reviews.increment();
            }
          }
          publish(ref, "encoded", null);
          publish(ref, "done", null);
          LOG.info("event=matte_done job=" + req.jobId() + " item=" + req.index() + " size=" + res.width() + "x"
              + res.height() + " batch=" + res.batchSize() + " " + res.timing().header().replace(';', ' ')
              + " confidence=" + res.confidence().headerValue() + " review=" + res.review());
        })
        .recover(err -> {
          MatteException me = err instanceof MatteException m ? m
              : new MatteException(ErrorCode.INTERNAL_ERROR, "unexpected failure: " + err.getMessage());
          if (!(err instanceof MatteException)) {
            LOG.severe("event=matte_error job=" + req.jobId() + " item=" + req.index() + " error=" + err);
          } else {
            LOG.info("event=matte_failed job=" + req.jobId() + " item=" + req.index() + " code=" + me.code());
          }
          publish(ref, "failed", me.code());
          return Future.failedFuture(me);
        });
  }

  @Override
  public Optional<MatteException> refusal(String model) {
    String name = model == null ? models.defaultModel() : model;
    if (vertx.isClustered() || models.get(name).isEmpty()) {
      return Optional.empty(); // the workers' queues are elsewhere; an unknown model is reported with the request
    }
    JsonObject status = vertx.sharedData().<String, JsonObject>getLocalMap(InferenceVerticle.STATUS_MAP).get(name);
    String state = status == null ? null : status.getString("status");
    if ("failed".equals(state)) {
      return Optional.of(unavailable(name));
    }
    if (!"ready".equals(state)) {
      return Optional.of(new MatteException(ErrorCode.MODEL_NOT_READY, "model '" + name + "' is not loaded yet", 1));
    }
    long fullFor = QueueGauge.refuseIfFull(vertx, name);
    return fullFor > 0
        ? Optional.of(new MatteException(ErrorCode.QUEUE_FULL, "the queue of model '" + name + "' is full", fullFor))
        : Optional.empty();
  }

  /** Decode, inference, refinement and encoding of one admitted image (its decode time starts here). */
  private Future<MatteResult> pipeline(MatteRequest req, ItemRef ref, ModelDescriptor model) {
    long t0 = System.nanoTime();
    return pool.<Prepared>executeBlocking(() -> prepare(req, model, t0), false)
        .compose(prep -> {
          publish(ref, "decoded", null);
          return vertx.eventBus()
              // on a cluster front the router forwards to the workers; else the local model's verticle
              .<InferenceReply>request(vertx.isClustered() ? InferenceRouter.ADDRESS
                      : InferenceVerticle.address(model.name()),
                  new InferenceRequest(ref, model.name(), prep.input()), delivery)
              .recover(err -> Future.failedFuture(transportError(err, model.name())))
              .compose(msg -> {
                InferenceReply r = msg.body();
                if (r.failed()) {
                  return Future.failedFuture(new MatteException(ErrorCode.orInternal(r.errorCode()), r.errorMessage(), r.retryAfterSecs()));
                }
                return pool.executeBlocking(() -> finish(req, model, prep, r), false);
              });
        });
  }

  private Prepared prepare(MatteRequest req, ModelDescriptor model, long t0) {
    busy.incrementAndGet();
    try {
      return prepareImage(req, model, t0);
    } finally {
      busy.decrementAndGet();
    }
  }

  private Prepared prepareImage(MatteRequest req, ModelDescriptor model, long t0) {
    DecodedImage img;
    try {
      img = decoder.decode(req.data());
    } catch (ImageDecodeException e) {
      throw new MatteException(ErrorCode.orInternal(e.code()), e.getMessage());
    }
    DecodedImage background = null;
    var bg = req.options().backgroundImage();
    if (bg != null && !req.options().matteOnly()) {
      try {
        background = decoder.decode(bg.bytes());
      } catch (ImageDecodeException e) {
        // the same codes as for the photo; the message says which image it was
        throw new MatteException(ErrorCode.orInternal(e.code()), "background image: " + e.getMessage());
      }
    }
    ModelInput input = ModelInputs.prepare(img, model);
    return new Prepared(img, input, background, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
  }

  private MatteResult finish(MatteRequest req, ModelDescriptor model, Prepared prep, InferenceReply r) {
    int busyNow = busy.incrementAndGet();
    try {
      // Split this image over the cores only while the pool has no other image in hand: otherwise the
      // images already keep the cores busy, and splitting would only add hand-overs.
      int parts = Math.max(1, Math.min(CORES, poolSize - busyNow + 1));
      return Parallel.with(parts, () -> finishImage(req, model, prep, r));
    } finally {
      busy.decrementAndGet();
    }
  }

  private MatteResult finishImage(MatteRequest req, ModelDescriptor model, Prepared prep, InferenceReply r) {
    long t0 = System.nanoTime();
    DecodedImage img = prep.image();
    byte[] alpha = Resizer.upscaleAlpha(r.alpha(), prep.input().width(), prep.input().height(), img.width(),
        img.height());
    long t1 = System.nanoTime();
    // judged on the model's own matte: refinement must not hide that the model was unsure
    MatteConfidence confidence = MatteConfidence.of(alpha, img.width(), img.height());
    long t2 = System.nanoTime();
    alpha = OutputRenderer.refineAlpha(img, alpha, req.options(), quality);
    long t3 = System.nanoTime();
    long[] colour = new long[1];
    OutputRenderer.Rendered out = OutputRenderer.renderRefined(img, alpha, prep.background(), req.options(), png,
        webp, quality, colour);
    byte[] matte = null;
    if (req.withMatte() && !req.options().matteOnly()) {
      // the matte framed like the main output (same roi, crop, layout and size), as a grey PNG
      matte = OutputRenderer.renderRefined(img, alpha, null, req.options().asMatte(), png, webp, quality, null)
          .bytes();
    }
    long t4 = System.nanoTime();
    long upscaleMs = millis(t2 - t0); // with the confidence score: one histogram pass over the upscaled matte
    long refineMs = millis(t3 - t2);
    long colourMs = millis(colour[0]);
    long encodeMs = millis(t4 - t0);
    // the rest: crop, resize, compose and the file's encoding (and the grey matte when asked for)
    long writeMs = Math.max(0, encodeMs - upscaleMs - refineMs - colourMs);
    return new MatteResult(out.bytes(), out.contentType(), out.width(), out.height(), model.name(), r.batchSize(),
        new MatteResult.Timing(prep.decodeMs(), r.queueMillis(), r.inferMillis(), encodeMs, upscaleMs, refineMs,
            colourMs, writeMs), matte, confidence, quality.needsReview(confidence), false, out.foreground());
  }

  private static long millis(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  private Throwable transportError(Throwable err, String model) {
    if (err instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
      JsonObject status = vertx.sharedData().<String, JsonObject>getLocalMap(InferenceVerticle.STATUS_MAP).get(model);
      if (status != null && "failed".equals(status.getString("status"))) {
        return unavailable(model);
      }
      return new MatteException(ErrorCode.MODEL_NOT_READY, "model '" + model + "' is not loaded yet", 1);
    }
    if (err instanceof ReplyException re && re.failureType() == ReplyFailure.TIMEOUT) {
      return new MatteException(ErrorCode.INFERENCE_TIMEOUT, "the model did not answer in time");
    }
    return err;
  }

  private MatteException unavailable(String model) {
    JsonObject status = vertx.sharedData().<String, JsonObject>getLocalMap(InferenceVerticle.STATUS_MAP).get(model);
    if (status != null && "failed".equals(status.getString("status"))) {
      return new MatteException(ErrorCode.MODEL_UNAVAILABLE, "model '" + model + "' failed to load: "
          + status.getString("error"));
    }
    return new MatteException(ErrorCode.UNKNOWN_MODEL, "model '" + model + "' is not served here; served: "
        + String.join(", ", models.models().keySet()));
  }

  private void publish(ItemRef ref, String stage, String code) {
    JsonObject j = new JsonObject().put("type", "progress").put("jobId", ref.jobId()).put("index", ref.index())
        .put("stage", stage).put("ts", System.currentTimeMillis());
    if (code != null) {
      j.put("code", code);
    }
    vertx.eventBus().publish(InferenceVerticle.PROGRESS_ADDRESS, j);
  }

  @Override
  public void close() {
    pool.close();
  }
}
