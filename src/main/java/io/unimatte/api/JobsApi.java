package io.unimatte.api;

import io.unimatte.error.CodedException;
import io.unimatte.error.ErrorCode;
import io.unimatte.config.AppConfig;
import io.unimatte.jobs.JobInputs;
import io.unimatte.jobs.JobStore;
import io.unimatte.jobs.JobSubmission;
import io.unimatte.jobs.JobsVerticle;
import io.unimatte.jobs.Viewer;
import io.unimatte.imaging.output.OutputOptions;
import io.unimatte.inference.ModelCatalog;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.logging.Logger;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Batch-job routes: {@code POST /api/v1/jobs} (many {@code image} parts or one zip, options in the query,
 * a background photo for every image as a {@code bg_image} part or {@code ?bg_image_url=}) → 202;
 * {@code GET /api/v1/jobs} (history, newest first, paged); {@code GET|DELETE /api/v1/jobs/{id}} (DELETE stops
 * its running work first); {@code GET /api/v1/jobs/{id}/items/{n}} (one result); {@code GET /api/v1/jobs/{id}/archive}
 * (zip); {@code POST /api/v1/jobs/{id}/retry} (queue the retryable failed items again) → 202;
 * {@code POST /api/v1/jobs/{id}/cancel} (stop the unfinished images, keep the rest) → 200.
 * Every image is written to disk before the job is acknowledged (see {@link JobInputs}). A job is
 * its creator's: every route answers 404 {@code job_not_found} for another client's job.
 *
 * <p>Longer than most files on purpose: the whole jobs HTTP surface (create from multipart or zip,
 * get, paged list, items, archive, retry, cancel, delete) as thin handlers over the jobs verticle.
 */
final class JobsApi {
  private static final Logger LOG = Logger.getLogger(JobsApi.class.getName());
  private final Vertx vertx;
  private final ImageInput input;
  private final ModelCatalog models;
  /** The multipart part and the query parameter that carry one background photo for every image. */
  private static final String BG_IMAGE = "bg_image";
  private static final String BG_IMAGE_URL = "bg_image_url";
  private final Path outputsDir;
  private final int maxZipEntries;
  private final long maxZipBytes;
  private final int maxItems;
  /** Zip entries larger than this are left out, as a single image that large would be refused. */
  private final long maxEntryBytes;

  private JobsApi(Vertx vertx, JsonObject jobs, JsonObject imaging, ImageInput input, ModelCatalog models) {
    this.vertx = vertx;
    this.input = input;
    this.models = models;
    this.maxEntryBytes = AppConfig.requireLong(imaging, "maxBytes");
    this.outputsDir = Path.of(AppConfig.requireString(jobs, "outputsDir"));
    this.maxZipEntries = AppConfig.requireInt(jobs, "maxZipEntries");
    this.maxZipBytes = AppConfig.requireLong(jobs, "maxZipBytes");
    this.maxItems = AppConfig.requireInt(jobs, "maxItemsPerJob");
  }

  static void mount(Router router, Vertx vertx, JsonObject config, BodyCollector uploads, ImageInput input,
                    ModelCatalog models) {
    JobsApi api = new JobsApi(vertx, config.getJsonObject("jobs"), config.getJsonObject("imaging"), input, models);
    router.post("/api/v1/jobs").handler(uploads).handler(api::create);
    router.get("/api/v1/jobs").handler(api::list);
    router.get("/api/v1/jobs/:id").handler(api::get);
    router.delete("/api/v1/jobs/:id").handler(api::delete);
    router.get("/api/v1/jobs/:id/items/:n").handler(api::item);
    router.get("/api/v1/jobs/:id/archive").handler(api::archive);
    router.post("/api/v1/jobs/:id/retry").handler(api::retry);
    router.post("/api/v1/jobs/:id/cancel").handler(api::cancel);
  }

  /** What stages a job's images: adds them to the inputs, throws {@link MatteException} for bad ones. */
  @FunctionalInterface
  interface Stager {
    void stage(JobInputs inputs) throws Exception;
  }

  /**
   * Stages a new job's images on disk (on a worker thread), then asks the jobs verticle to commit
   * it. Whatever fails on the way, the staged files are discarded: a job is accepted whole or not
   * at all. Shared by every way in (multipart/zip here, {@code submit} on the WebSocket).
   *
   * @return the new job, once its inputs and record are on disk
   */
  static Future<JsonObject> submit(Vertx vertx, Path outputsDir, int maxItems, Stager stager,
                                   java.util.function.Function<JobInputs, JobSubmission> submission) {
    return vertx.executeBlocking(() -> {
      JobInputs inputs = JobStore.create(outputsDir).stage(maxItems);
      try {
        stager.stage(inputs);
      } catch (Exception | Error e) {
        inputs.discard();
        if (!(e instanceof CodedException)) {
          LOG.warning("event=job_stage_failed job=" + inputs.jobId() + " error=" + e);
        }
        throw e;
      }
      return inputs;
    }, false).compose(inputs -> vertx.eventBus().<JsonObject>request(JobsVerticle.CREATE, submission.apply(inputs))
        .recover(err -> {
          if (err instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
            // nobody took it (the jobs verticle is gone); after a timeout it may still commit, so that case stays
            return vertx.executeBlocking(() -> {
              inputs.discard();
              return null;
            }, false).transform(ar -> Future.failedFuture(new CodedException(ErrorCode.SHUTTING_DOWN, "the server is stopping")));
          }
          return Future.failedFuture(err);
        }))
        .map(msg -> msg.body());
  }

  private static void fail(RoutingContext ctx, Throwable err) {
    if (err instanceof ReplyException re && re.failureCode() >= 400 && re.failureCode() < 600) {
      ErrorCode code = ErrorCode.orInternal(re.getMessage());
      ApiErrors.send(ctx, code, code.defaultMessage(), err instanceof JobsVerticle.Refusal r ? r.retryAfterSecs() : 0);
    } else {
      ApiErrors.send(ctx, err);
    }
  }

  private void create(RoutingContext ctx) {
    OutputOptions output;
    String model;
    try {
      output = OutputOptions.parse(ImageInput.query(ctx));
      model = ModelsApi.resolve(ctx.request().getParam("model"), models);
    } catch (CodedException e) {
      fail(ctx, e);
      return;
    }
    boolean withMatte = Boolean.parseBoolean(ctx.request().getParam("matte", "false"));
    String type = ctx.request().getHeader("Content-Type");
    if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
      fail(ctx, new CodedException(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
          "send multipart/form-data with fields named 'image' (curl -F image=@a.jpg -F image=@b.jpg), or one zip"));
      return;
    }
    byte[] body = BodyCollector.body(ctx);
    String client = AccessControl.clientId(ctx);
    String bgUrl = ctx.request().getParam(BG_IMAGE_URL);
    // the background photo is fetched before anything is stored: a bad URL refuses the whole job
    Future<byte[]> fetchedBg = bgUrl == null || bgUrl.isBlank() ? Future.succeededFuture(null)
        : input.fetch(bgUrl, BG_IMAGE_URL);
    byte[][] bgPart = new byte[1][];
    Viewer viewer = AccessControl.viewer(ctx);
    fetchedBg.compose(fetched -> submit(vertx, outputsDir, maxItems, inputs -> {
      int i = 0;
      for (Multipart.Part part : Multipart.parse(body, Multipart.boundary(type))) {
        if (part.filename() != null && part.name() == null) {
          throw new CodedException(ErrorCode.INVALID_MULTIPART, "a multipart part has a filename but no name"
              + " (Content-Disposition: form-data; name=\"image\"; filename=…)");
        }
        if (BG_IMAGE.equals(part.name()) && part.filename() != null) {
          bgPart[0] = part.data();
          continue;
        }
        if (part.filename() == null || !Set.of("image", "images", "file").contains(part.name())) {
          continue;
        }
        if (ZipUnpacker.isZip(part.data())) {
          ZipUnpacker.unpack(part.data(), maxZipEntries, maxZipBytes, maxEntryBytes, inputs);
        } else {
          inputs.add(safeName(part.filename(), i), part.data());
        }
        i++;
      }
      if (inputs.names().isEmpty()) {
        throw new CodedException(ErrorCode.MISSING_IMAGE,
            "send the images as multipart fields named 'image' (curl -F image=@a.jpg -F image=@b.jpg), or one zip");
      }
      if (bgPart[0] != null && fetched != null) {
        throw new CodedException(ErrorCode.INVALID_PARAMETER, "give a bg_image part or ?bg_image_url, not both");
      }
    }, inputs -> new JobSubmission(inputs, output.withBackgroundImage(bgPart[0] != null ? bgPart[0] : fetched),
        withMatte, "http", client, viewer.owner(), model)))
        .onSuccess(job -> {
          String id = job.getString("id");
          job.put("links", links(id));
          ctx.response().setStatusCode(202).putHeader("Location", "/api/v1/jobs/" + id)
              .putHeader("Content-Type", "application/json").end(job.encode());
        })
        .onFailure(err -> fail(ctx, err));
  }


  static String safeName(String name, int index) {
    String n = name == null ? "" : name.replace('\\', '/');
    n = n.substring(n.lastIndexOf('/') + 1).replaceAll("[^A-Za-z0-9._ -]", "_");
    return n.isBlank() ? "image-" + index : n;
  }

  private static JsonObject links(String id) {
    return new JsonObject().put("self", "/api/v1/jobs/" + id).put("archive", "/api/v1/jobs/" + id + "/archive")
        .put("websocket", "/api/v1/ws");
  }

  /**
   * One page of the history: {@code ?limit} (1–{@value JobsVerticle#MAX_PAGE}, default
   * {@value JobsVerticle#DEFAULT_PAGE}), {@code ?offset}, {@code ?review=true} for the jobs with images to check;
   * {@code next} links the following page while there is one.
   */
  private void list(RoutingContext ctx) {
    int limit;
    int offset;
    try {
      limit = intParam(ctx, "limit", JobsVerticle.DEFAULT_PAGE, 1, JobsVerticle.MAX_PAGE);
      offset = intParam(ctx, "offset", 0, 0, Integer.MAX_VALUE);
    } catch (CodedException e) {
      fail(ctx, e);
      return;
    }
    boolean review = Boolean.parseBoolean(ctx.request().getParam("review", "false"));
    vertx.eventBus().<JsonObject>request(JobsVerticle.LIST, AccessControl.viewer(ctx).addTo(new JsonObject()
            .put("limit", limit).put("offset", offset).put("review", review)))
        .onSuccess(m -> {
          JsonObject page = m.body();
          if (offset + limit < page.getInteger("total")) {
            page.put("next", "/api/v1/jobs?limit=" + limit + "&offset=" + (offset + limit) + (review ? "&review=true" : ""));
          }
          ctx.json(page);
        })
        .onFailure(err -> fail(ctx, err));
  }

  private static int intParam(RoutingContext ctx, String name, int fallback, int min, int max) {
    String v = ctx.request().getParam(name);
    if (v == null || v.isBlank()) {
      return fallback;
    }
    try {
      int n = Integer.parseInt(v.trim());
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new CodedException(ErrorCode.INVALID_PARAMETER, name + " must be a whole number from " + min
        + (max == Integer.MAX_VALUE ? " up" : " to " + max) + ", got '" + v + "'");
  }

  /** The job of the path, if the caller may see it; else {@code job_not_found}, as if it did not exist. */
  private Future<JsonObject> job(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    if (!JobStore.isValidId(id)) {
      return Future.failedFuture(new CodedException(ErrorCode.JOB_NOT_FOUND, "no job '" + id + "'"));
    }
    return vertx.eventBus().<JsonObject>request(JobsVerticle.GET, byId(ctx, id))
        .compose(m -> m.body() == null ? Future.failedFuture(new CodedException(ErrorCode.JOB_NOT_FOUND, "no job '" + id + "'"))
            : Future.succeededFuture(m.body()));
  }

  /** A message naming job {@code id}, with the caller as the viewer. */
  private static JsonObject byId(RoutingContext ctx, String id) {
    return AccessControl.viewer(ctx).addTo(new JsonObject().put("id", id));
  }

  private void get(RoutingContext ctx) {
    boolean reviewOnly = Boolean.parseBoolean(ctx.request().getParam("review", "false"));
    job(ctx).onSuccess(j -> {
      if (reviewOnly) {
        // only the doubtful cutouts, each still with its index, for the people who check them by hand
        JsonArray flagged = new JsonArray();
        j.getJsonArray("items").forEach(o -> {
          if (o instanceof JsonObject item && item.getBoolean("review", false)) {
            flagged.add(item);
          }
        });
        j.put("items", flagged);
      }
      ctx.json(j.put("links", links(j.getString("id"))));
    }).onFailure(err -> fail(ctx, err));
  }

  private void retry(RoutingContext ctx) {
    job(ctx).compose(j -> vertx.eventBus().<JsonObject>request(JobsVerticle.RETRY, byId(ctx, j.getString("id"))))
        .onSuccess(m -> {
          JsonObject job = m.body();
          String id = job.getString("id");
          ctx.response().setStatusCode(202).putHeader("Location", "/api/v1/jobs/" + id)
              .putHeader("Content-Type", "application/json").end(job.put("links", links(id)).encode());
        })
        .onFailure(err -> fail(ctx, err));
  }

  private void cancel(RoutingContext ctx) {
    job(ctx).compose(j -> vertx.eventBus().<JsonObject>request(JobsVerticle.CANCEL,
            byId(ctx, j.getString("id"))))
        .onSuccess(m -> ctx.json(m.body().put("links", links(m.body().getString("id")))))
        .onFailure(err -> fail(ctx, err));
  }

  private void delete(RoutingContext ctx) {
    job(ctx).compose(j -> vertx.eventBus().<Boolean>request(JobsVerticle.DELETE, byId(ctx, j.getString("id"))))
        .onSuccess(m -> ctx.response().setStatusCode(204).end())
        .onFailure(err -> fail(ctx, err));
  }

  private void item(RoutingContext ctx) {
    job(ctx).onSuccess(j -> {
      JsonArray items = j.getJsonArray("items");
      int n;
      try {
        n = Integer.parseInt(ctx.pathParam("n"));
      } catch (NumberFormatException e) {
        n = -1;
      }
      if (n < 0 || n >= items.size()) {
        ApiErrors.send(ctx, ErrorCode.ITEM_NOT_FOUND, "job " + j.getString("id") + " has items 0.." + (items.size() - 1), 0);
        return;
      }
      JsonObject item = items.getJsonObject(n);
      String stage = item.getString("stage");
      if ("failed".equals(stage)) {
        ApiErrors.send(ctx, ErrorCode.ITEM_FAILED, "this image failed: " + item.getString("code") + " ("
            + item.getString("message") + ")", 0);
        return;
      }
      if (!"done".equals(stage)) {
        ApiErrors.send(ctx, ErrorCode.ITEM_NOT_READY, "this image is still " + stage, 1);
        return;
      }
      boolean alpha = "alpha".equalsIgnoreCase(ctx.request().getParam("output", ""));
      Path file = JobsVerticle.resultPath(outputsDir, j.getString("id"),
          alpha ? n + ".alpha.png" : item.getString("file", n + ".png"));
      String contentType = alpha ? "image/png" : item.getString("contentType", "image/png");
      vertx.fileSystem().exists(file.toString()).onSuccess(exists -> {
        if (!exists) {
          ApiErrors.send(ctx, ErrorCode.ITEM_NOT_FOUND, alpha ? "no matte was stored for this job (submit with matte=true)"
              : "the result file is gone (retention cleanup)", 0);
          return;
        }
        ctx.response().putHeader("Content-Type", contentType)
            .putHeader("X-Width", String.valueOf(item.getInteger("width")))
            .putHeader("X-Height", String.valueOf(item.getInteger("height")))
            .putHeader("Content-Disposition", "inline; filename=\""
                + outName(item.getString("name"), alpha ? "png" : extension(item)) + "\"")
            .sendFile(file.toString());
      });
    }).onFailure(err -> fail(ctx, err));
  }

  static String outName(String name, String ext) {
    String base = name.contains(".") ? name.substring(0, name.lastIndexOf('.')) : name;
    return base + "." + ext;
  }

  private static String extension(JsonObject item) {
    String file = item.getString("file", ".png");
    return file.substring(file.lastIndexOf('.') + 1);
  }

  private void archive(RoutingContext ctx) {
    job(ctx).compose(j -> vertx.executeBlocking(() -> zip(j), false))
        .onSuccess(bytes -> ctx.response().putHeader("Content-Type", "application/zip")
            .putHeader("Content-Disposition", "attachment; filename=\"unimatte-" + ctx.pathParam("id") + ".zip\"")
            .end(Buffer.buffer(bytes)))
        .onFailure(err -> fail(ctx, err));
  }

  /** Archive folder with a copy of each cutout whose confidence is below {@code imaging.reviewThreshold}. */
  private static final String REVIEW_FOLDER = "review/";

  private byte[] zip(JsonObject job) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Set<String> used = new HashSet<>();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      JsonArray items = job.getJsonArray("items");
      for (int i = 0; i < items.size(); i++) {
        JsonObject item = items.getJsonObject(i);
        if (!"done".equals(item.getString("stage"))) {
          continue;
        }
        String name = outName(item.getString("name"), extension(item));
        if (!used.add(name.toLowerCase(Locale.ROOT))) {
          name = i + "-" + name;
          used.add(name.toLowerCase(Locale.ROOT));
        }
        Path result = JobsVerticle.resultPath(outputsDir, job.getString("id"), item.getString("file", i + ".png"));
        add(zip, name, result);
        if (item.getBoolean("review", false)) {
          // doubtful cutouts once more in their own folder, so a shop checks one folder instead of every
          // image, while scripts that expect every result at the top keep working
          add(zip, REVIEW_FOLDER + name, result);
        }
        add(zip, "alpha/" + outName(name, "png"),
            JobsVerticle.resultPath(outputsDir, job.getString("id"), i + ".alpha.png"));
      }
      zip.putNextEntry(new ZipEntry("job.json"));
      zip.write(job.encodePrettily().getBytes(java.nio.charset.StandardCharsets.UTF_8));
      zip.closeEntry();
    }
    return bytes.toByteArray();
  }

  private static void add(ZipOutputStream zip, String name, Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      return;
    }
    zip.putNextEntry(new ZipEntry(name));
    Files.copy(file, zip);
    zip.closeEntry();
  }
}
