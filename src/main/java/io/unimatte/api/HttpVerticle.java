package io.unimatte.api;

import io.unimatte.cache.ResultCache;
import io.unimatte.cluster.InferenceRouter;
import io.unimatte.config.AppConfig;
import io.unimatte.imaging.output.OutputOptions;
import io.unimatte.inference.InferenceVerticle;
import io.unimatte.inference.ModelCatalog;
import io.unimatte.service.MatteException;
import io.unimatte.service.MatteRequest;
import io.unimatte.service.MatteResult;
import io.unimatte.service.MattingService;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.CorsHandler;
import io.vertx.ext.web.handler.StaticHandler;

import java.util.Locale;
import java.util.UUID;
import java.util.logging.Logger;

/**
 * The HTTP API on the event loop: uploads in, cutouts out. Runs as several instances sharing
 * one port; all heavy work goes through {@link MattingService} (worker pool + inference verticle).
 *
 * <p>Deployment config: the whole {@code config.json}; the served models come as a {@link ModelCatalog}.
 */
public final class HttpVerticle extends VerticleBase {
  private static final Logger LOG = Logger.getLogger(HttpVerticle.class.getName());
  /** Multipart field that carries the image. */
  public static final String IMAGE_FIELD = "image";
  private static final long STATUS_TIMEOUT_MS = 2_000;

  private final ResultCache cache;
  private final ModelCatalog models;
  private MattingService service;
  private UrlFetcher urlFetcher;
  private HttpServer server;

  /**
   * @param cache  the process-wide result cache, shared by every instance
   * @param models the served models
   */
  public HttpVerticle(ResultCache cache, ModelCatalog models) {
    this.cache = cache;
    this.models = models;
  }

  @Override
  public Future<?> start() {
    JsonObject all = config();
    JsonObject http = all.getJsonObject("server");
    service = MattingService.create(vertx, all.getJsonObject("imaging"), models);
    urlFetcher = new UrlFetcher(vertx, all.getJsonObject("urlFetch"));
    Router router = router(http);
    server = vertx.createHttpServer(new HttpServerOptions()
        .setHost(AppConfig.requireString(http, "host"))
        .setPort(AppConfig.requireInt(http, "port"))
        .setMaxWebSocketMessageSize(AppConfig.requireInt(all.getJsonObject("websocket"), "maxMessageBytes"))
        .setMaxWebSocketFrameSize(AppConfig.requireInt(all.getJsonObject("websocket"), "maxMessageBytes")));
    return server.requestHandler(router).listen();
  }

  private Router router(JsonObject http) {
    Router router = Router.router(vertx);
    JsonObject security = config().getJsonObject("security");
    JsonArray origins = security.getJsonArray("corsAllowedOrigins", new JsonArray());
    if (!origins.isEmpty()) {
      // closed by default: without this handler browsers refuse cross-origin calls
      CorsHandler cors = CorsHandler.create().allowedHeader("Content-Type").allowedHeader("X-Api-Key")
          .allowedHeader("Authorization").allowedMethod(io.vertx.core.http.HttpMethod.GET)
          .allowedMethod(io.vertx.core.http.HttpMethod.POST).allowedMethod(io.vertx.core.http.HttpMethod.DELETE);
      origins.forEach(o -> cors.addOrigin(String.valueOf(o)));
      router.route().handler(cors);
    }
    AccessControl access = new AccessControl(security, System::currentTimeMillis);
    router.route("/api/*").handler(access);
    router.route("/v1.0/*").handler(access);
    router.route("/metrics").handler(access);
    if (security.getBoolean("protectUi", false)) {
      router.route().pathRegex("^/(?!api/|v1\\.0/|health$|metrics$|openapi\\.json$).*").handler(access.pageGuard(AppConfig.requireString(http, "webroot")));
    }
    router.get("/health").handler(this::health);
    router.get("/api/v1/models").handler(ctx -> ctx.json(ModelsApi.list(models, statuses())));
    MetricsApi.mount(router, vertx, models, this::statuses);
    BodyCollector uploads = new BodyCollector(AppConfig.requireLong(http, "maxRequestBytes"));
    router.post("/api/v1/matte").handler(uploads).handler(this::matte);
    JobsApi.mount(router, vertx, config(), uploads, models);
    RemoveBgApi.mount(router, uploads, service, urlFetcher, models);
    router.route("/api/v1/ws").handler(ctx -> WebSocketApi.accept(vertx, ctx, config(), models));
    router.route("/*").handler(StaticHandler.create(io.vertx.ext.web.handler.FileSystemAccess.RELATIVE,
        AppConfig.requireString(http, "webroot")));
    router.route().failureHandler(this::failure);
    router.errorHandler(404, ctx -> ApiErrors.send(ctx, "not_found", "no such resource: " + ctx.request().path(), 0));
    router.errorHandler(405, ctx -> ApiErrors.send(ctx, "method_not_allowed",
        ctx.request().method() + " is not allowed on " + ctx.request().path(), 0));
    return router;
  }

  /**
   * Each model's last published status (loading, ready, failed). A cluster front loads no model:
   * a model is ready there when at least one worker announces it ready.
   */
  private java.util.Map<String, JsonObject> statuses() {
    return vertx.isClustered() ? statuses(workerStatuses())
        : vertx.sharedData().<String, JsonObject>getLocalMap(InferenceVerticle.STATUS_MAP);
  }

  /** Per model on a cluster front, from the workers' announcements. */
  private static java.util.Map<String, JsonObject> statuses(List<JsonObject> announced) {
    java.util.Map<String, JsonObject> byModel = new java.util.HashMap<>();
    for (JsonObject w : announced) {
      if ("ready".equals(w.getString("status"))) {
        byModel.computeIfAbsent(w.getString("model"), m -> new JsonObject().put("status", "ready").put("model", m)
            .put("workers", 0));
        JsonObject s = byModel.get(w.getString("model"));
        s.put("workers", s.getInteger("workers") + 1);
      }
    }
    return byModel;
  }

  /** On a cluster front: the latest announcement of each (worker, model). */
  private List<JsonObject> workerStatuses() {
    return vertx.sharedData().<String, JsonObject>getLocalMap(InferenceRouter.WORKERS_MAP).values().stream()
        .sorted(java.util.Comparator.comparing((JsonObject w) -> w.getString("node") + "/" + w.getString("model")))
        .toList();
  }

  /**
   * 200 with the default model's engine status (and every model's state under {@code models}) once
   * the default model is warm; 503 while it loads or when it failed.
   */
  private void health(RoutingContext ctx) {
    if (vertx.isClustered()) {
      clusterHealth(ctx);
      return;
    }
    String def = models.defaultModel();
    java.util.Map<String, JsonObject> statuses = statuses();
    JsonObject summary = ModelsApi.states(models, statuses);
    JsonObject ready = statuses.get(def);
    if (ready == null || !"ready".equals(ready.getString("status"))) {
      String state = ready != null && "failed".equals(ready.getString("status")) ? "failed" : "starting";
      ctx.response().setStatusCode(503).putHeader("Content-Type", "application/json")
          .putHeader("Retry-After", "5")
          .end(new JsonObject().put("status", state).put("model", def).put("models", summary).encode());
      return;
    }
    vertx.eventBus().<JsonObject>request(InferenceVerticle.statusAddress(def), new JsonObject(),
            new DeliveryOptions().setSendTimeout(STATUS_TIMEOUT_MS))
        .onComplete(ar -> {
          JsonObject body = ar.succeeded() ? ar.result().body() : ready.copy().put("status", "busy");
          ctx.response().setStatusCode(ar.succeeded() ? 200 : 503)
              .putHeader("Content-Type", "application/json").end(body.put("models", summary).encode());
        });
  }

  /**
   * A cluster front loads no model: it is ready when it sees at least one worker, and lists the
   * workers with their latest announced status.
   */
  private void clusterHealth(RoutingContext ctx) {
    List<JsonObject> announced = workerStatuses();
    JsonArray workers = new JsonArray();
    announced.forEach(workers::add);
    long nodes = announced.stream().map(w -> w.getString("node")).distinct().count();
    String def = models.defaultModel();
    java.util.Map<String, JsonObject> statuses = statuses(announced);
    boolean ready = statuses.containsKey(def);
    HttpServerResponse res = ctx.response().setStatusCode(ready ? 200 : 503).putHeader("Content-Type", "application/json");
    if (!ready) {
      res.putHeader("Retry-After", "5");
    }
    res.end(new JsonObject().put("status", ready ? "ready" : "no_workers").put("role", "front").put("model", def)
        .put("models", ModelsApi.states(models, statuses)).put("workerCount", nodes).put("workers", workers)
        .encode());
  }

  private void matte(RoutingContext ctx) {
    OutputOptions options;
    String model;
    try {
      options = queryOptions(ctx);
      model = ModelsApi.resolve(ctx.request().getParam("model"), models);
    } catch (MatteException e) {
      ApiErrors.send(ctx, e.code(), e.getMessage(), 0);
      return;
    }
    String jobId = UUID.randomUUID().toString();
    String[] key = new String[1];
    // hashing megabytes is worker-pool work, not event-loop work
    readImage(ctx).compose(bytes -> vertx.executeBlocking(() -> ResultCache.key(bytes, model, options.canonical()),
            false).compose(k -> {
          key[0] = k;
          var hit = cache.get(key[0]);
          if (hit.isPresent()) {
            return Future.succeededFuture(hit.get());
          }
          return service.matte(new MatteRequest(jobId, 0, bytes, options, false, model)).map(res -> {
            ResultCache.CachedResult c = new ResultCache.CachedResult(res.bytes(), res.contentType(), res.width(),
                res.height(), res.model(), java.util.Map.of("X-Batch-Size", Integer.toString(res.batchSize()),
                "X-Timing", res.timing().header()));
            cache.put(key[0], c);
            ctx.response().putHeader("X-Cache", "miss");
            return c;
          });
        }))
        .onSuccess(res -> {
          if (!ctx.response().headers().contains("X-Cache")) {
            ctx.response().putHeader("X-Cache", "hit");
          }
          sendResult(ctx, jobId, res);
        })
        .onFailure(err -> {
          if (err instanceof MatteException me) {
            ApiErrors.send(ctx, me.code(), me.getMessage(), me.retryAfterSecs());
          } else {
            LOG.severe("event=request_error job=" + jobId + " error=" + err);
            ApiErrors.send(ctx, "internal_error", "unexpected error", 0);
          }
        });
  }

  /** Output options from the query string. */
  static OutputOptions queryOptions(RoutingContext ctx) {
    java.util.Map<String, String> params = new java.util.HashMap<>();
    ctx.queryParams().forEach(e -> params.putIfAbsent(e.getKey(), e.getValue()));
    return parseOptions(params);
  }

  /** Output options from request parameters, as every way in reads them. */
  static OutputOptions parseOptions(java.util.Map<String, String> params) {
    try {
      return OutputOptions.parse(params);
    } catch (OutputOptions.InvalidOptionException e) {
      throw new MatteException(e.code(), e.getMessage());
    }
  }

  /** Parses {@code output=}: rgba (cutout) or alpha (matte). */
  static MatteRequest.OutputKind outputKind(String value) {
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "rgba", "cutout" -> MatteRequest.OutputKind.RGBA;
      case "alpha", "mask", "matte" -> MatteRequest.OutputKind.ALPHA;
      default -> throw new MatteException("invalid_parameter", "output must be 'rgba' or 'alpha', got '" + value + "'");
    };
  }

  /** The image bytes: the multipart field {@code image}, or the raw body of an image-typed request. */
  private Future<byte[]> readImage(RoutingContext ctx) {
    String type = ctx.request().getHeader("Content-Type");
    String media = type == null ? "" : type.toLowerCase(Locale.ROOT).split(";")[0].trim();
    String url = ctx.request().getParam("image_url");
    byte[] body = ctx.<Buffer>get(BodyCollector.KEY).getBytes();
    if (media.equals("multipart/form-data")) {
      return vertx.executeBlocking(() -> Multipart.parse(body, Multipart.boundary(type)), false)
          .compose(parts -> imageFromParts(parts, url));
    }
    return readNonMultipart(media, type, body, url);
  }

  private Future<byte[]> imageFromParts(List<Multipart.Part> parts, String url) {
    for (Multipart.Part part : parts) {
      if (IMAGE_FIELD.equals(part.name()) && part.filename() != null) {
        return Future.succeededFuture(part.data());
      }
    }
    for (Multipart.Part part : parts) {
      if (IMAGE_FIELD.equals(part.name()) || "image_url".equals(part.name())) {
        return IMAGE_FIELD.equals(part.name()) ? Future.succeededFuture(part.data()) : urlFetcher.fetch(part.text());
      }
    }
    if (url != null) {
      return urlFetcher.fetch(url);
    }
    return Future.failedFuture(new MatteException("missing_image",
        "send the image as the multipart form field 'image' (curl -F image=@photo.jpg), or an 'image_url'"));
  }

  private Future<byte[]> readNonMultipart(String media, String type, byte[] body, String url) {
    if (media.equals("application/json")) {
      JsonObject json;
      try {
        json = new JsonObject(Buffer.buffer(body));
      } catch (RuntimeException e) {
        return Future.failedFuture(new MatteException("invalid_json", "the body is not a JSON object"));
      }
      if (json.getValue("image_b64") instanceof String b64) {
        try {
          return Future.succeededFuture(java.util.Base64.getMimeDecoder().decode(b64));
        } catch (IllegalArgumentException e) {
          return Future.failedFuture(new MatteException("invalid_base64", "image_b64 is not valid base64"));
        }
      }
      if (json.getValue("image_url") instanceof String u) {
        return urlFetcher.fetch(u);
      }
      return Future.failedFuture(new MatteException("missing_image", "the JSON body needs 'image_b64' or 'image_url'"));
    }
    if (media.startsWith("image/") || media.equals("application/octet-stream")) {
      return Future.succeededFuture(body);
    }
    if (url != null) {
      return urlFetcher.fetch(url);
    }
    return Future.failedFuture(new MatteException("unsupported_media_type",
        "send multipart/form-data with a field 'image', the raw image with an image/* content type,"
            + " JSON with 'image_b64' or 'image_url', or ?image_url=" + (media.isEmpty() ? "" : " (got '" + media + "')")));
  }

  private void sendResult(RoutingContext ctx, String jobId, ResultCache.CachedResult res) {
    res.headers().forEach((k, v) -> ctx.response().putHeader(k, v));
    ctx.response()
        .putHeader("Content-Type", res.contentType())
        .putHeader("X-Width", Integer.toString(res.width()))
        .putHeader("X-Height", Integer.toString(res.height()))
        .putHeader("X-Model", res.model())
        .putHeader("X-Job-Id", jobId)
        .end(Buffer.buffer(res.bytes()));
  }

  private void failure(RoutingContext ctx) {
    int status = ctx.statusCode();
    if (status == 413) {
      ApiErrors.send(ctx, "payload_too_large", "the request is larger than the server accepts", 0);
    } else if (status == 403) {
      ApiErrors.send(ctx, "forbidden_origin", "cross-origin requests from this origin are not allowed", 0);
    } else if (status == 400) {
      ApiErrors.send(ctx, "invalid_parameter", "malformed request", 0);
    } else if (status == 404) {
      ApiErrors.send(ctx, "not_found", "no such resource: " + ctx.request().path(), 0);
    } else {
      LOG.severe("event=unhandled_failure path=" + ctx.request().path() + " status=" + status
          + " error=" + ctx.failure());
      ApiErrors.send(ctx, "internal_error", "unexpected error", 0);
    }
  }

  @Override
  public Future<?> stop() {
    if (service != null) {
      service.close();
    }
    return server == null ? Future.succeededFuture() : server.close();
  }
}
