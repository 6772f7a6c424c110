package io.unimatte.api;

import io.unimatte.error.CodedException;
import io.unimatte.imaging.output.OutputOptions;
import io.unimatte.inference.ModelCatalog;
import io.unimatte.service.MatteRequest;
import io.unimatte.service.MatteResult;
import io.unimatte.service.MattingService;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.UUID;
import java.util.logging.Logger;

/**
 * {@code POST /api/v1/matte}: one image in (any way {@link ImageInput} reads, with an optional background
 * photo in {@code bg_image} or {@code bg_image_url}), the cutout or matte out at full resolution, with
 * {@code X-Width/X-Height/X-Model/X-Job-Id/X-Batch-Size/X-Timing/X-Cache} and the subject's box in
 * {@code X-Foreground-Left/Top/Width/Height}.
 */
final class MatteApi {
  private static final Logger LOG = Logger.getLogger(MatteApi.class.getName());

  private final MattingService service;
  private final ImageInput input;
  private final ModelCatalog models;

  private MatteApi(MattingService service, ImageInput input, ModelCatalog models) {
    this.service = service;
    this.input = input;
    this.models = models;
  }

  static void mount(Router router, BodyCollector uploads, MattingService service, ImageInput input,
                    ModelCatalog models) {
    router.post("/api/v1/matte")
        .handler(uploads.admitting(ctx -> service.refusal(queryModel(ctx, models)), ApiErrors::send))
        .handler(new MatteApi(service, input, models)::handle);
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

  private void handle(RoutingContext ctx) {
    String jobId = UUID.randomUUID().toString();
    input.form(ctx, ImageInput.MATTE).compose(form -> {
      OutputOptions parsed = OutputOptions.parse(form.params());
      String model = ModelsApi.resolve(form.params().get("model"), models);
      return input.background(form, ImageInput.MATTE).map(parsed::withBackgroundImage)
          .compose(options -> input.image(form, ImageInput.MATTE)
              .compose(bytes -> service.matte(new MatteRequest(jobId, 0, bytes, options, false, model))));
    }).onSuccess(res -> send(ctx, jobId, res)).onFailure(err -> {
      if (!(err instanceof CodedException)) {
        LOG.severe("event=request_error job=" + jobId + " error=" + err);
      }
      ApiErrors.send(ctx, err);
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
