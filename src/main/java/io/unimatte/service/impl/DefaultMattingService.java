package io.unimatte.service.impl;

import io.unimatte.error.ErrorCode;
import io.unimatte.cluster.InferenceRouter;
import io.unimatte.config.AppConfig;
import io.unimatte.imaging.output.OutputOptions;
import io.unimatte.imaging.output.OutputRenderer;
import io.unimatte.imaging.output.QualitySettings;
import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.ImageDecodeException;
import io.unimatte.imaging.ImageDecoder;
import io.unimatte.imaging.ImageLimits;
import io.unimatte.imaging.PngEncoder;
import io.unimatte.imaging.Resizer;
import io.unimatte.inference.InferenceReply;
import io.unimatte.inference.InferenceRequest;
import io.unimatte.inference.InferenceVerticle;
import io.unimatte.inference.ModelCatalog;
import io.unimatte.modelimport.ModelDescriptor;
import io.unimatte.inference.ModelInput;
import io.unimatte.inference.QueueGauge;
import io.unimatte.batching.ItemRef;
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
import java.util.logging.Logger;

/** The pipeline of {@link MattingService}. */
public final class DefaultMattingService implements MattingService {
  private static final Logger LOG = Logger.getLogger(DefaultMattingService.class.getName());

  private final Vertx vertx;
  private final WorkerExecutor pool;
  private final ModelCatalog models;
  private final ImageDecoder decoder;
  private final PngEncoder png;
  private final QualitySettings quality;
  private final DeliveryOptions delivery;

  public DefaultMattingService(Vertx vertx, JsonObject imaging, ModelCatalog models, long replyTimeoutMs) {
    this.vertx = vertx;
    this.models = models;
    this.pool = vertx.createSharedWorkerExecutor(IMAGING_POOL, AppConfig.requireInt(imaging, "workerPoolSize"));
    this.decoder = new ImageDecoder(new ImageLimits(AppConfig.requireLong(imaging, "maxBytes"),
        AppConfig.requireLong(imaging, "maxPixels"), AppConfig.requireInt(imaging, "maxFrames")));
    this.png = new PngEncoder(AppConfig.requireInt(imaging, "pngCompressionLevel"));
    this.quality = QualitySettings.fromConfig(imaging);
    this.delivery = new DeliveryOptions().setLocalOnly(true).setSendTimeout(replyTimeoutMs);
  }

  private record Prepared(DecodedImage image, ModelInput input, long decodeMs) {
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
    publish(ref, "queued", null);
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
        })
        .onSuccess(res -> {
          publish(ref, "encoded", null);
          publish(ref, "done", null);
          LOG.info("event=matte_done job=" + req.jobId() + " item=" + req.index() + " size=" + res.width() + "x"
              + res.height() + " batch=" + res.batchSize() + " " + res.timing().header().replace(';', ' '));
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
    long fullFor = QueueGauge.fullForSeconds(vertx, name);
    return fullFor > 0
        ? Optional.of(new MatteException(ErrorCode.QUEUE_FULL, "the queue of model '" + name + "' is full", fullFor))
        : Optional.empty();
  }

  private Prepared prepare(MatteRequest req, ModelDescriptor model, long t0) {
    DecodedImage img;
    try {
      img = decoder.decode(req.data());
    } catch (ImageDecodeException e) {
      throw new MatteException(ErrorCode.orInternal(e.code()), e.getMessage());
    }
    ModelInput input = ModelInputs.prepare(img, model);
    return new Prepared(img, input, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
  }

  private MatteResult finish(MatteRequest req, ModelDescriptor model, Prepared prep, InferenceReply r) {
    long t = System.nanoTime();
    DecodedImage img = prep.image();
    byte[] alpha = Resizer.upscaleAlpha(r.alpha(), prep.input().width(), prep.input().height(), img.width(),
        img.height());
    alpha = OutputRenderer.refineAlpha(img, alpha, req.options(), quality);
    OutputRenderer.Rendered out = OutputRenderer.renderRefined(img, alpha, req.options(), png, quality);
    byte[] matte = null;
    if (req.withMatte() && !req.options().matteOnly()) {
      OutputOptions o = req.options();
      // the matte framed like the main output (same crop and size), as a grey PNG
      matte = OutputRenderer.renderRefined(img, alpha, new OutputOptions(true, "png", null, o.crop(), o.cropMargin(),
          o.cropMarginPercent(), o.maxPixels(), o.maxWidth(), o.maxHeight(), o.jpegQuality()), png, quality).bytes();
    }
    long encodeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t);
    return new MatteResult(out.bytes(), out.contentType(), out.width(), out.height(), model.name(), r.batchSize(),
        new MatteResult.Timing(prep.decodeMs(), r.queueMillis(), r.inferMillis(), encodeMs), matte);
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
