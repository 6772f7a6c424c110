package io.unimatte.api;

import io.unimatte.config.AppConfig;
import io.unimatte.error.ErrorCode;
import io.unimatte.inference.ModelCatalog;
import io.unimatte.service.MattingService;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.CorsHandler;
import io.vertx.ext.web.handler.FileSystemAccess;
import io.vertx.ext.web.handler.StaticHandler;

import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The HTTP server on the event loop: routes, security, CORS and the web page; the handlers are the
 * small {@code *Api} classes beside it, all over one {@link MattingService}. Runs as several instances
 * sharing one port.
 *
 * <p>Deployment config: the whole {@code config.json}.
 */
public final class HttpVerticle extends VerticleBase {
  private static final Logger LOG = Logger.getLogger(HttpVerticle.class.getName());
  /** Paths the page guard leaves open: the APIs have their own key check, health and docs stay public. */
  private static final String PAGE_PATHS = "^/(?!api/|v1\\.0/|health$|metrics$|openapi\\.json$).*";

  private final MattingService service;
  private final ModelCatalog models;
  private final InFlightBudget budget;
  private HttpServer server;

  /**
   * @param service the matting pipeline with its result cache, shared by every instance
   * @param models  the served models
   * @param budget  bytes of bodies and WebSocket messages in memory at once, shared by every instance
   */
  public HttpVerticle(MattingService service, ModelCatalog models, InFlightBudget budget) {
    this.service = service;
    this.models = models;
    this.budget = budget;
  }

  @Override
  public Future<?> start() {
    JsonObject all = config();
    JsonObject http = all.getJsonObject("server");
    int maxMessage = AppConfig.requireInt(all.getJsonObject("websocket"), "maxMessageBytes");
    server = vertx.createHttpServer(HttpServers.options(http, AppConfig.requireInt(http, "port"))
        .setMaxWebSocketMessageSize(maxMessage)
        .setMaxWebSocketFrameSize(maxMessage)
        // 100 Continue only once the head passed the checks (BodyCollector), never before them
        .setHandle100ContinueAutomatically(false));
    return server.requestHandler(router(all)).listen();
  }

  private Router router(JsonObject all) {
    JsonObject http = all.getJsonObject("server");
    JsonObject security = all.getJsonObject("security");
    BodyCollector uploads = new BodyCollector(vertx, AppConfig.requireLong(http, "maxRequestBytes"), budget,
        TimeUnit.SECONDS.toMillis(AppConfig.requireLong(http, "idleTimeoutSeconds")),
        TimeUnit.SECONDS.toMillis(AppConfig.requireLong(http, "bodyTimeoutSeconds")));
    Router router = Router.router(vertx);
    // first and without a path: matching a path decodes it, and a bad %-escape in the path or the query
    // would fail the router or a later handler (a stack trace, a 500) instead of one JSON error
    router.route().handler(EncodingCheck::handle);
    router.route().handler(uploads::guard);
    JsonArray origins = security.getJsonArray("corsAllowedOrigins", new JsonArray());
    if (!origins.isEmpty()) {
      // closed by default: without this handler browsers refuse cross-origin calls
      CorsHandler cors = CorsHandler.create().allowedHeader("Content-Type").allowedHeader("X-Api-Key")
          .allowedHeader("Authorization").allowedMethod(HttpMethod.GET).allowedMethod(HttpMethod.POST)
          .allowedMethod(HttpMethod.DELETE);
      origins.forEach(o -> cors.addOrigin(String.valueOf(o)));
      // browsers send Origin on the page's own POSTs and WebSocket too: those are no CORS requests
      router.route().handler(ctx -> {
        if (OriginCheck.sameOrigin(ctx.request())) {
          ctx.next();
        } else {
          cors.handle(ctx);
        }
      });
    }
    AccessControl access = AccessControl.shared(vertx, security);
    // before the key check: a browser whose session expired may still clear its cookie
    router.post("/api/v1/logout").handler(access::logout);
    router.route("/api/*").handler(access);
    router.route("/v1.0/*").handler(access);
    router.route("/metrics").handler(access);
    String webroot = AppConfig.requireString(http, "webroot");
    if (security.getBoolean("protectUi", false)) {
      router.route().pathRegex(PAGE_PATHS).handler(access.pageGuard(webroot));
    }
    router.post("/api/v1/login").handler(access::login);
    router.get("/api/v1/session").handler(access::describe);
    router.get("/health").handler(new HealthApi(vertx, models)::handle);
    router.get("/api/v1/models").handler(ctx -> ctx.json(ModelsApi.list(models, ModelStatuses.of(vertx))));
    MetricsApi.mount(router, vertx, models, () -> ModelStatuses.of(vertx));
    ImageInput input = new ImageInput(vertx, new UrlFetcher(vertx, all.getJsonObject("urlFetch")));
    MatteApi.mount(router, vertx, all, uploads, service, input, models);
    JobsApi.mount(router, vertx, all, uploads, input, models);
    RemoveBgApi.mount(router, uploads, service, input, models, all.getJsonObject("removebg"));
    router.route("/api/v1/ws").handler(ctx -> WebSocketApi.accept(vertx, ctx, all, input, models, budget));
    router.route("/*").handler(StaticHandler.create(FileSystemAccess.RELATIVE, webroot));
    router.route().failureHandler(HttpVerticle::failure);
    router.errorHandler(400, ctx -> ApiErrors.send(ctx, ErrorCode.INVALID_PARAMETER, "malformed request", 0));
    router.errorHandler(404, ctx -> ApiErrors.send(ctx, ErrorCode.NOT_FOUND, "no such resource: " + ctx.request().path(), 0));
    router.errorHandler(405, ctx -> ApiErrors.send(ctx, ErrorCode.METHOD_NOT_ALLOWED,
        ctx.request().method() + " is not allowed on " + ctx.request().path(), 0));
    return router;
  }



  private static void failure(RoutingContext ctx) {
    switch (ctx.statusCode()) {
      case 413 -> ApiErrors.send(ctx, ErrorCode.PAYLOAD_TOO_LARGE, ErrorCode.PAYLOAD_TOO_LARGE.defaultMessage(), 0);
      case 403 -> ApiErrors.send(ctx, ErrorCode.FORBIDDEN_ORIGIN, ErrorCode.FORBIDDEN_ORIGIN.defaultMessage(), 0);
      case 400 -> ApiErrors.send(ctx, ErrorCode.INVALID_PARAMETER, "malformed request", 0);
      case 404 -> ApiErrors.send(ctx, ErrorCode.NOT_FOUND, "no such resource: " + ctx.request().path(), 0);
      default -> {
        LOG.severe("event=unhandled_failure path=" + ctx.request().path() + " status=" + ctx.statusCode()
            + " error=" + ctx.failure());
        ApiErrors.send(ctx, ErrorCode.INTERNAL_ERROR, ErrorCode.INTERNAL_ERROR.defaultMessage(), 0);
      }
    }
  }

  @Override
  public Future<?> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }
}
