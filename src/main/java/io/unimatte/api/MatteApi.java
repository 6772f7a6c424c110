package io.unimatte.api;

import io.unimatte.config.AppConfig;
import io.unimatte.error.CodedException;
import io.unimatte.error.ErrorCode;
import io.unimatte.imaging.output.OutputOptions;
import io.unimatte.inference.ModelCatalog;
import io.unimatte.jobs.JobStore;
import io.unimatte.jobs.JobsVerticle;
import io.unimatte.jobs.SingleRecord;
import io.unimatte.service.MatteRequest;
import io.unimatte.service.MatteResult;
import io.unimatte.service.MattingService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.nio.file.Path;
import java.util.Locale;
import java.util.UUID;
import java.util.logging.Logger;

/**
 * {@code POST /api/v1/matte}: one image in (any way {@link ImageInput} reads, with an optional background
 * photo in {@code bg_image} or {@code bg_image_url}), the cutout or matte out at full resolution, with
 * {@code X-Width/X-Height/X-Model/X-Job-Id/X-Batch-Size/X-Timing/X-Cache} and the subject's box in
 * {@code X-Foreground-Left/Top/Width/Height}.
 * With {@code record=true} (the web page sends it; {@code jobs.recordSingles} makes it the default) the
 * cutout is also kept in the history as a finished one-image job whose id is {@code X-Job-Id}.
 */
final class MatteApi {
  private static final Logger LOG = Logger.getLogger(MatteApi.class.getName());
  /** Name of a recorded image that came without a file name (raw body, base64, URL). */
  private static final String UNNAMED = "image";

  private final Vertx vertx;
  private final MattingService service;
  private final ImageInput input;
  private final ModelCatalog models;
  private final Path outputsDir;
  private final boolean recordSingles;

  private MatteApi(Vertx vertx, JsonObject config, MattingService service, ImageInput input, ModelCatalog models) {
    this.vertx = vertx;
    this.service = service;
    this.input = input;
    this.models = models;
    JsonObject jobs = config.getJsonObject("jobs");
    this.outputsDir = Path.of(AppConfig.requireString(jobs, "outputsDir"));
    this.recordSingles = AppConfig.requireBoolean(jobs, "recordSingles");
  }

  static void mount(Router router, Vertx vertx, JsonObject config, BodyCollector uploads, MattingService service,
                    ImageInput input, ModelCatalog models) {
    router.post("/api/v1/matte")
        .handler(uploads.admitting(ctx -> service.refusal(queryModel(ctx, models)), ApiErrors::send))
        .handler(new MatteApi(vertx, config, service, input, models)::handle);
  }

  /**
   * The model a request names in its query string (a form field may still name another one; the check
   * before the body is then made for this one); null for the default and for an unknown name, which is
   * reported with the request itself.
   */
  static String queryModel(RoutingContext ctx, ModelCatalog models) {
    try {
      return ModelsApi.resolve(ctx.request().getParam("model"), models);
    } catch (CodedException e) {
      return null;
    }
  }

  /** A cutout and the job id it is answered under. */
  private record Answer(String jobId, MatteResult result) {
  }

  private void handle(RoutingContext ctx) {
    String jobId = UUID.randomUUID().toString();
    input.form(ctx, ImageInput.MATTE).compose(form -> {
      OutputOptions parsed = OutputOptions.parse(form.params());
      String model = ModelsApi.resolve(form.params().get("model"), models);
      boolean record = flag(form.params().get("record"), recordSingles);
      return input.background(form, ImageInput.MATTE).map(parsed::withBackgroundImage)
          .compose(options -> input.image(form, ImageInput.MATTE)
              .compose(bytes -> service.matte(new MatteRequest(jobId, 0, bytes, options, false, model))
                  .compose(res -> record ? record(ctx, form, bytes, options, res, jobId)
                      : Future.succeededFuture(new Answer(jobId, res)))));
    }).onSuccess(a -> send(ctx, a.jobId(), a.result())).onFailure(err -> {
      if (!(err instanceof CodedException)) {
        LOG.severe("event=request_error job=" + jobId + " error=" + err);
      }
      ApiErrors.send(ctx, err);
    });
  }

  private static boolean flag(String value, boolean fallback) {
    if (value == null || value.isBlank()) {
      return fallback;
    }
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "true", "1", "yes", "on" -> true;
      case "false", "0", "no", "off" -> false;
      default -> throw new CodedException(ErrorCode.INVALID_PARAMETER, "record must be true or false, got '" + value + "'");
    };
  }

  /**
   * Keeps the cutout as a finished one-image job, answered under that job's id. The cutout matters more
   * than its history entry: when recording fails the answer still goes out, under the request's id.
   */
  private Future<Answer> record(RoutingContext ctx, ImageInput.Form form, byte[] bytes, OutputOptions options,
                                MatteResult res, String requestId) {
    String name = JobsApi.safeName(form.filename() != null ? form.filename() : form.params().getOrDefault("name", UNNAMED), 0);
    String client = AccessControl.clientId(ctx);
    String owner = AccessControl.viewer(ctx).owner();
    return vertx.executeBlocking(() -> {
      var inputs = JobStore.create(outputsDir).stage(1);
      try {
        inputs.add(name, bytes);
      } catch (Exception | Error e) {
        inputs.discard();
        throw e;
      }
      return inputs;
    }, false).compose(inputs -> vertx.eventBus().<JsonObject>request(JobsVerticle.RECORD,
            new SingleRecord(inputs, options, "single", client, owner, res.model(), res)))
        .map(m -> new Answer(m.body().getString("id"), res))
        .recover(err -> {
          LOG.warning("event=single_not_recorded job=" + requestId + " error=" + err.getMessage());
          return Future.succeededFuture(new Answer(requestId, res));
        });
  }

  private static void send(RoutingContext ctx, String jobId, MatteResult res) {
    ctx.response()
        .putHeader("Content-Type", res.contentType())
        .putHeader("X-Width", Integer.toString(res.width()))
        .putHeader("X-Height", Integer.toString(res.height()))
        .putHeader("X-Model", res.model())
        .putHeader("X-Job-Id", jobId)
        .putHeader("X-Batch-Size", Integer.toString(res.batchSize()))
        .putHeader("X-Timing", res.timing().header())
        .putHeader("X-Cache", res.cacheHit() ? "hit" : "miss")
        .putHeader("X-Matte-Confidence", res.confidence().headerValue())
        .putHeader("X-Matte-Review", Boolean.toString(res.review()))
        .putHeader("X-Foreground-Left", Integer.toString(res.foreground().left()))
        .putHeader("X-Foreground-Top", Integer.toString(res.foreground().top()))
        .putHeader("X-Foreground-Width", Integer.toString(res.foreground().width()))
        .putHeader("X-Foreground-Height", Integer.toString(res.foreground().height()))
        .end(Buffer.buffer(res.bytes()));
  }
}
