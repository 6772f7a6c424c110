package io.unimatte.api;

import io.unimatte.error.ErrorCode;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.unimatte.cluster.InferenceRouter;
import io.unimatte.config.AppConfig;
import io.unimatte.inference.InferenceVerticle;
import io.unimatte.inference.ModelCatalog;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MetricsNaming;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.PrometheusScrapingHandler;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.micrometer.backends.BackendRegistries;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * {@code GET /metrics}: the process's Micrometer registry in Prometheus text. {@link #enable} turns
 * on Vert.x's metrics (HTTP server latency by route and status, event loops, worker pools, JVM);
 * {@link #mount} adds the route and the model gauges. The engine and cache meters are bound where
 * their data lives ({@code InferenceVerticle}, {@code CacheMeters}); {@code docs/metrics.md} lists
 * every name.
 *
 * <p>One registry per process: Vert.x's default one ({@link BackendRegistries#getDefaultNow()}),
 * which the other meter owners look up too.
 */
public final class MetricsApi {
  private static final Logger LOG = Logger.getLogger(MetricsApi.class.getName());
  /** Upper bounds (seconds) of the HTTP latency histogram: from a health check to a large cutout. */
  private static final double[] LATENCY_BUCKETS_SECONDS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
      10, 30, 60};
  private static final double NANOS_PER_SECOND = 1e9;
  /** Vert.x's name of the HTTP server response timer (before the Prometheus naming convention). */
  private static final String RESPONSE_TIME = MetricsDomain.HTTP_SERVER.getPrefix()
      + MetricsNaming.v4Names().getHttpResponseTime();
  private static final String ROUTE = Label.HTTP_ROUTE.toString();
  /** Vert.x Web reports every route a request passed through, joined by this. */
  private static final String ROUTE_SEPARATOR = ">";
  /** Route label of a request that reached no named route (a CORS preflight answered by the CORS handler). */
  private static final String UNROUTED = "unrouted";
  private static final String MODEL = "model";
  private static final String POOL_TYPE = Label.POOL_TYPE.toString();
  private static final String POOL_NAME = Label.POOL_NAME.toString();
  private static final String WORKER_POOL = "worker";
  /** The one pool name of outgoing connection pools, see {@link #boundedPoolNames()}. */
  private static final String ALL_POOLS = "all";

  private MetricsApi() {
  }

  /**
   * Turns on Vert.x's Micrometer metrics with a Prometheus registry: HTTP server requests and
   * latency histograms labelled with the route template (never the raw path, so series stay
   * bounded) and the status, event-loop pending tasks, worker pools, event bus, and the JVM
   * (memory, GC, threads, CPU).
   *
   * @return {@code options}, for chaining
   */
  public static VertxOptions enable(VertxOptions options) {
    MicrometerMetricsOptions metrics = new MicrometerMetricsOptions()
        .setEnabled(true)
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true))
        .setJvmMetricsEnabled(true)
        // Netty's executor metrics are the event loops' pending tasks
        .setNettyMetricsEnabled(true)
        .addLabels(Label.HTTP_ROUTE);
    // Meter filters must be in place before the first meter is registered: Vert.x uses an existing
    // backend of the same name as is, so set up the default one with a registry configured here
    BackendRegistries.setupBackend(metrics, newRegistry());
    return options.setMetricsOptions(metrics);
  }

  private static PrometheusMeterRegistry newRegistry() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config()
        .meterFilter(answeringRoute())
        .meterFilter(boundedPoolNames())
        .meterFilter(MeterFilter.replaceTagValues(ROUTE, route -> route.isEmpty() ? UNROUTED : route))
        .meterFilter(new MeterFilter() {
          @Override
          public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
            if (!id.getName().equals(RESPONSE_TIME)) {
              return config;
            }
            return DistributionStatisticConfig.builder()
                .serviceLevelObjectives(Arrays.stream(LATENCY_BUCKETS_SECONDS).map(s -> s * NANOS_PER_SECOND).toArray())
                .build().merge(config);
          }
        });
    return registry;
  }

  /**
   * Keeps the last route of {@code /api/*>/api/v1/matte}: the access-control routes come first, and
   * the last one is the handler that answered.
   */
  private static MeterFilter answeringRoute() {
    return MeterFilter.replaceTagValues(ROUTE, route -> route.substring(route.lastIndexOf(ROUTE_SEPARATOR) + 1));
  }

  /**
   * Vert.x names each HTTP and WebSocket client pool after its server's host:port, and
   * {@code image_url} reaches any host: those pools share one name so that series stay bounded;
   * worker pools keep theirs.
   */
  private static MeterFilter boundedPoolNames() {
    return new MeterFilter() {
      @Override
      public Meter.Id map(Meter.Id id) {
        String type = id.getTag(POOL_TYPE);
        if (type == null || WORKER_POOL.equals(type)) {
          return id;
        }
        return id.replaceTags(Tags.of(id.getTagsAsIterable()).and(POOL_NAME, ALL_POOLS));
      }
    };
  }

  /**
   * {@code GET /metrics} on {@code router} (put access control on the path before), plus
   * {@code unimatte_model_ready} per model and, on a cluster front, {@code unimatte_workers}.
   *
   * @param statuses each model's status JSON ({@code status: ready|loading|failed}), read at each scrape
   */
  public static void mount(Router router, Vertx vertx, ModelCatalog models,
                           Supplier<Map<String, JsonObject>> statuses) {
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    if (registry != null && vertx.isClustered()) {
      // HTTP runs clustered only on a front: the engines, and their meters, are on the workers
      gaugeOnce(registry, Gauge.builder("unimatte.workers", () -> vertx.sharedData()
              .<String, JsonObject>getLocalMap(InferenceRouter.WORKERS_MAP).values().stream()
              .map(w -> w.getString("node")).distinct().count())
          .description("inference worker nodes this front sees"), "unimatte.workers");
    }
    route(router, registry, models, statuses);
  }

  private static void route(Router router, MeterRegistry registry, ModelCatalog models,
                            Supplier<Map<String, JsonObject>> statuses) {
    if (!(registry instanceof PrometheusMeterRegistry prometheus)) {
      LOG.warning("event=metrics_off reason=vertx_started_without_MetricsApi.enable");
      router.get("/metrics").handler(ctx -> ApiErrors.send(ctx, ErrorCode.NOT_FOUND, "metrics are off in this process", 0));
      return;
    }
    TreeSet<String> names = new TreeSet<>(models.models().keySet());
    names.addAll(models.failures().keySet());
    for (String model : names) {
      gaugeOnce(registry, Gauge.builder("unimatte.model.ready", () -> {
            JsonObject s = statuses.get().get(model);
            return s != null && "ready".equals(s.getString("status")) ? 1 : 0;
          })
          .description("1 once the model is loaded and warm (on a cluster front: once a worker announces it)")
          .tag(MODEL, model), "unimatte.model.ready", MODEL, model);
    }
    router.get("/metrics").handler(PrometheusScrapingHandler.create(prometheus));
  }

  /**
   * Registers the gauge unless the first HTTP verticle instance did: the instances share the
   * registry, and Micrometer keeps the first gauge of an id anyway (and warns about the others).
   */
  private static void gaugeOnce(MeterRegistry registry, Gauge.Builder<?> gauge, String name, String... tags) {
    synchronized (registry) {
      if (registry.find(name).tags(tags).gauge() == null) {
        gauge.strongReference(true).register(registry);
      }
    }
  }

  /** Binds {@code binder} to the registry when metrics are on (a no-op otherwise). */
  public static void bind(MeterBinder binder) {
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    if (registry != null) {
      binder.bindTo(registry);
    }
  }

  /**
   * A cluster worker has no HTTP API: with {@code cluster.workerMetricsPort} above 0 it serves
   * {@code /metrics} alone there (on {@code server.host}, behind the same API keys), so its
   * engine meters can be scraped; 0 serves nothing.
   */
  public static Future<Void> serveWorker(Vertx vertx, AppConfig config, ModelCatalog models) {
    int port = AppConfig.requireInt(config.section("cluster"), "workerMetricsPort");
    if (port <= 0) {
      return Future.succeededFuture();
    }
    Router router = Router.router(vertx);
    router.route("/metrics").handler(AccessControl.shared(vertx, config.section("security")));
    route(router, BackendRegistries.getDefaultNow(), models,
        () -> vertx.sharedData().<String, JsonObject>getLocalMap(InferenceVerticle.STATUS_MAP));
    router.errorHandler(404, ctx -> ApiErrors.send(ctx, ErrorCode.NOT_FOUND, "a worker serves /metrics only", 0));
    HttpServerOptions options = HttpServers.options(config.section("server"), port);
    return vertx.createHttpServer(options).requestHandler(router)
        .listen().map(server -> {
          LOG.info("event=worker_metrics_listening host=" + options.getHost() + " port=" + server.actualPort());
          return null;
        });
  }
}
