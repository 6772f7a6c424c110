package io.unimatte;

import io.unimatte.api.BindCheck;
import io.unimatte.api.HttpVerticle;
import io.unimatte.api.MetricsApi;
import io.unimatte.cache.CacheMeters;
import io.unimatte.api.InFlightBudget;
import io.unimatte.cache.ResultCache;
import io.unimatte.cluster.ClusterBootstrap;
import io.unimatte.cluster.ClusterMembership;
import io.unimatte.cluster.ClusterSettings;
import io.unimatte.cluster.InferenceRouter;
import io.unimatte.config.AppConfig;
import io.unimatte.inference.CpuFeatures;
import io.unimatte.inference.InferenceVerticle;
import io.unimatte.jobs.JobsVerticle;
import io.unimatte.service.MattingService;
import io.unimatte.service.MemoryBudget;
import io.unimatte.service.MemoryMeters;
import io.unimatte.inference.MattingSession;
import io.unimatte.inference.ModelCatalog;
import io.unimatte.modelimport.ModelDescriptor;
import io.unimatte.inference.SessionOptions;
import io.unimatte.inference.impl.TensorFlowMattingSession;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * Deploys Unimatte's verticles into a Vert.x instance: the jobs and HTTP API first (so
 * {@code /health} answers 503 while models load), then one inference worker per served model
 * (several for one-image-per-call models configured with {@code sessions}), each owning its session.
 * A model that fails to load is reported in one line and in {@code /api/v1/models}; the others serve.
 * On a cluster ({@code cluster.role}) a front deploys the first part with a router to the workers,
 * and a worker only the inference part.
 */
public final class UnimatteServer {
  private static final Logger LOG = Logger.getLogger(UnimatteServer.class.getName());
  /** Prefix of the worker pool of each model's inference verticle (one thread per session). */
  public static final String INFERENCE_POOL = "unimatte-inference";
  /** Local map (and key) holding this process's cluster node id, when clustered. */
  private static final String NODE_MAP = "unimatte.node";
  /** Local map (and key) holding the deployment id of the jobs verticle, which stops first. */
  private static final String JOBS_DEPLOYMENT = "unimatte.jobs.deployment";

  /** Opens a session for a model; called on the model's inference worker thread (may block). */
  @FunctionalInterface
  public interface SessionFactory {
    MattingSession open(ModelDescriptor model) throws Exception;
  }

  private UnimatteServer() {
  }

  private static Future<String> deployInference(Vertx vertx, AppConfig config, ModelDescriptor model,
                                                SessionFactory sessions) {
    Supplier<MattingSession> open = () -> {
      try {
        return sessions.open(model);
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException(e.getMessage(), e);
      }
    };
    return vertx.deployVerticle(() -> new InferenceVerticle(open), new DeploymentOptions()
        .setThreadingModel(ThreadingModel.WORKER)
        .setWorkerPoolName(INFERENCE_POOL + "-" + model.name())
        .setWorkerPoolSize(model.sessions())
        .setInstances(model.sessions())
        .setConfig(inferenceConfig(vertx, config)));
  }

  /** The inference section, plus on a cluster worker its node id and announcement period. */
  private static JsonObject inferenceConfig(Vertx vertx, AppConfig config) {
    JsonObject cfg = config.section("inference");
    String node = vertx.sharedData().<String, String>getLocalMap(NODE_MAP).get(NODE_MAP);
    if (node != null) {
      cfg.put(InferenceVerticle.NODE_KEY, node)
          .put(InferenceVerticle.STATUS_INTERVAL_KEY, ClusterSettings.from(config.section("cluster")).statusIntervalMs());
    }
    return cfg;
  }

  /**
   * Starts Vert.x for the configured role ({@code cluster.role}), with metrics on, and deploys that
   * role's verticles.
   *
   * @param sessions opens model sessions (used by roles {@code all} and {@code worker})
   * @param created  told the Vert.x instance as soon as it exists (before deployment), so a
   *                 shutdown hook can close it gracefully even while models load
   * @return the running Vert.x, once the role is ready
   */
  public static Future<Vertx> start(AppConfig config, VertxOptions options, SessionFactory sessions,
                                    java.util.function.Consumer<Vertx> created) {
    ClusterSettings cluster = ClusterSettings.from(config.section("cluster"));
    return ClusterBootstrap.start(cluster, MetricsApi.enable(options)).compose(node -> {
      Vertx vertx = node.vertx();
      created.accept(vertx);
      Future<Void> deployed = switch (cluster.role()) {
        case ALL -> deploy(vertx, config, sessions);
        case FRONT -> deployFront(vertx, config, cluster, node.membership());
        case WORKER -> deployWorker(vertx, config, sessions, node.membership());
      };
      return deployed.map(vertx).recover(err -> vertx.close().transform(ar -> Future.failedFuture(err)));
    });
  }

  /** A cluster front: HTTP, WebSocket, cache and jobs; images go to the workers through the router. */
  public static Future<Void> deployFront(Vertx vertx, AppConfig config, ClusterSettings cluster,
                                         ClusterMembership membership) {
    InferenceVerticle.registerCodecs(vertx.eventBus());
    ModelCatalog catalog = ModelCatalog.fromConfig(config.section("models"));
    long replyTimeout = replyTimeoutMs(config);
    return vertx.deployVerticle(new InferenceRouter(cluster, membership, replyTimeout))
        .compose(id -> deployApi(vertx, config, catalog))
        .map(id -> {
          markMemoryBase(vertx);
          LOG.info("event=ready role=front node=" + membership.localNodeId() + " models=" + catalog.models().keySet());
          return null;
        });
  }

  /** A cluster worker: the served models and their batching queues, fed over the clustered event bus. */
  public static Future<Void> deployWorker(Vertx vertx, AppConfig config, SessionFactory sessions,
                                          ClusterMembership membership) {
    long t0 = System.nanoTime();
    InferenceVerticle.registerCodecs(vertx.eventBus());
    vertx.sharedData().<String, String>getLocalMap(NODE_MAP).put(NODE_MAP, membership.localNodeId());
    ModelCatalog catalog = ModelCatalog.fromConfig(config.section("models"));
    markLoading(vertx, catalog);
    return deployModels(vertx, config, catalog, sessions)
        .compose(v -> MetricsApi.serveWorker(vertx, config, catalog)).map(v -> {
      LOG.info("event=ready role=worker node=" + membership.localNodeId() + " models=" + catalog.models().keySet()
          + " coldStartMs=" + (System.nanoTime() - t0) / 1_000_000);
      return null;
    });
  }

  /** How long an image may wait for the model's answer: its time in the queue plus one batch in flight. */
  private static long replyTimeoutMs(AppConfig config) {
    JsonObject inference = config.section("inference");
    return AppConfig.requireLong(inference, "queueTimeoutMs") + AppConfig.requireLong(inference, "batchTimeoutMs");
  }

  /** The one pipeline, behind one result cache, for every way in (uploads, remove.bg, jobs, WebSocket, the CLI). */
  private static MattingService pipeline(Vertx vertx, AppConfig config, ModelCatalog catalog, ResultCache cache,
                                         MemoryBudget memory) {
    return MattingService.create(vertx, config.section("imaging"), catalog, replyTimeoutMs(config), cache, memory);
  }

  private static Future<String> deployApi(Vertx vertx, AppConfig config, ModelCatalog catalog) {
    JsonObject httpConfig = config.json();
    int instances = AppConfig.requireInt(config.section("server"), "httpInstances");
    ResultCache cache = ResultCache.fromConfig(config.section("cache"));
    MetricsApi.bind(new CacheMeters(cache));
    // one budget for every HTTP instance: they share the heap
    InFlightBudget budget = InFlightBudget.of(AppConfig.requireLong(config.section("server"), "maxInFlightBytes"),
        AppConfig.requireLong(config.section("server"), "maxRequestBytes"));
    MetricsApi.bind(budget);
    MemoryBudget memory = memoryBudget(vertx, config);
    MetricsApi.bind(new MemoryMeters(memory));
    MattingService service = pipeline(vertx, config, catalog, cache, memory);
    return vertx.deployVerticle(new JobsVerticle(catalog, service), new DeploymentOptions().setConfig(httpConfig))
        .onSuccess(id -> vertx.sharedData().<String, String>getLocalMap(JOBS_DEPLOYMENT).put(JOBS_DEPLOYMENT, id))
        .compose(id -> vertx.deployVerticle(() -> new HttpVerticle(service, catalog, budget),
            new DeploymentOptions().setConfig(httpConfig).setInstances(instances)))
        .onSuccess(id -> {
          LOG.info("event=http_listening host=" + config.section("server").getString("host")
              + " port=" + config.section("server").getInteger("port"));
          BindCheck.insecureBindWarning(httpConfig).ifPresent(LOG::warning);
        });
  }

  /**
   * Stops gracefully: first the batch jobs, while the models still serve (nothing new starts;
   * the images in flight finish within the inference grace period, the rest stay queued on disk
   * for the next start), then everything else ({@link Vertx#close}: HTTP, models, cluster).
   * Undeploying all at once would let a job's image be lost in transit to a model that is
   * unregistering, and the job would wait for it until the grace period ran out.
   */
  public static Future<Void> stop(Vertx vertx) {
    String jobs = vertx.sharedData().<String, String>getLocalMap(JOBS_DEPLOYMENT).get(JOBS_DEPLOYMENT);
    Future<Void> first = jobs != null && vertx.deploymentIDs().contains(jobs)
        ? vertx.undeploy(jobs).recover(err -> {
          LOG.warning("event=jobs_stop_failed error=" + err.getMessage());
          return Future.succeededFuture();
        })
        : Future.succeededFuture();
    // close() is called off the event loops: a future it returned on one would be completed on a
    // loop it shuts down, and never complete
    return Future.fromCompletionStage(first.toCompletionStage().toCompletableFuture()
        .thenComposeAsync(v -> vertx.close().toCompletionStage()));
  }

  /**
   * The process's memory budget: {@code server.memoryBudgetBytes} (0: a share of the machine), with the
   * result cache's bytes kept out of the heap room for images, and as many images waiting for room as
   * the inference queue holds.
   */
  private static MemoryBudget memoryBudget(Vertx vertx, AppConfig config) {
    JsonObject server = config.section("server");
    JsonObject cache = config.section("cache");
    long cacheBytes = cache.getBoolean("enabled", false) ? AppConfig.requireLong(cache, "maxBytes") : 0;
    return MemoryBudget.create(vertx, AppConfig.requireLong(server, "memoryBudgetBytes"), cacheBytes,
        AppConfig.requireLong(server, "memoryWaitMs"), AppConfig.requireInt(config.section("inference"), "maxQueueSize"));
  }

  /** Takes the memory base once everything this node serves is loaded (no-op where no budget was made). */
  private static void markMemoryBase(Vertx vertx) {
    MemoryBudget budget = MemoryBudget.of(vertx);
    if (budget != null) {
      budget.markReady();
    }
  }

  /**
   * Redeploys a model's inference verticle with a fresh session when it reports itself unhealthy
   * (consecutive failed batches). Meanwhile its uploads get 503 {@code model_not_ready}.
   */
  private static void superviseInference(Vertx vertx, AppConfig config, ModelCatalog catalog, SessionFactory sessions) {
    vertx.eventBus().<JsonObject>localConsumer(InferenceVerticle.DEAD_ADDRESS, m -> {
      String id = m.body().getString("deployment");
      ModelDescriptor model = catalog.get(m.body().getString("model")).orElse(null);
      if (model == null) {
        return;
      }
      LOG.warning("event=inference_redeploy model=" + model.name() + " old=" + id);
      vertx.undeploy(id)
          .recover(err -> Future.succeededFuture())
          .compose(v -> deployInference(vertx, config, model, sessions))
          .onSuccess(newId -> LOG.info("event=inference_redeployed model=" + model.name() + " id=" + newId))
          .onFailure(err -> LOG.severe("event=inference_redeploy_failed model=" + model.name() + " error="
              + err.getMessage()));
    });
  }

  /** A session factory that loads each model with TensorFlow. */
  public static SessionFactory tensorFlowSessions(AppConfig config) {
    SessionOptions options = SessionOptions.from(config.section("inference"), CpuFeatures.detect());
    LOG.info("event=bf16_decision setting=" + config.section("inference").getString("bf16") + " enabled="
        + options.bf16().enabled() + " reason=\"" + options.bf16().reason() + "\"");
    return model -> TensorFlowMattingSession.load(model, options);
  }

  /** Deploys with one session supplier for every model (tests that serve one model). */
  public static Future<Void> deploy(Vertx vertx, AppConfig config, Supplier<MattingSession> sessions) {
    return deploy(vertx, config, model -> sessions.get());
  }

  /**
   * Deploys everything; the future completes when every model that can load is warm. Models that
   * fail are logged ({@code event=model_failed}) and marked failed in the status map.
   */
  public static Future<Void> deploy(Vertx vertx, AppConfig config, SessionFactory sessions) {
    long t0 = System.nanoTime();
    InferenceVerticle.registerCodecs(vertx.eventBus());
    ModelCatalog catalog = ModelCatalog.fromConfig(config.section("models"));
    markLoading(vertx, catalog);
    return deployApi(vertx, config, catalog)
        .compose(id -> deployModels(vertx, config, catalog, sessions))
        .map(v -> {
          markMemoryBase(vertx);
          LOG.info("event=ready models=" + catalog.models().keySet() + " coldStartMs=" + (System.nanoTime() - t0) / 1_000_000);
          return null;
        });
  }

  /**
   * The served models and the matting pipeline in this process, without HTTP, jobs or a cluster:
   * the command-line tool's embedded mode. Completes when every model that can load is warm (fails
   * when none can), with the same pipeline and result cache the server's ways in use; the caller
   * closes the service and then {@code vertx}.
   */
  public static Future<MattingService> deployEmbedded(Vertx vertx, AppConfig config, SessionFactory sessions) {
    long t0 = System.nanoTime();
    InferenceVerticle.registerCodecs(vertx.eventBus());
    ModelCatalog catalog = ModelCatalog.fromConfig(config.section("models"));
    markLoading(vertx, catalog);
    return deployModels(vertx, config, catalog, sessions).map(v -> {
      LOG.info("event=ready role=embedded models=" + catalog.models().keySet() + " coldStartMs="
          + (System.nanoTime() - t0) / 1_000_000);
      return pipeline(vertx, config, catalog, ResultCache.fromConfig(config.section("cache")), null);
    });
  }

  /** Marks every model loading (or failed, when its folder was unusable) for {@code /health}. */
  private static void markLoading(Vertx vertx, ModelCatalog catalog) {
    var status = vertx.sharedData().<String, JsonObject>getLocalMap(InferenceVerticle.STATUS_MAP);
    catalog.failures().forEach((name, error) -> status.put(name, failed(name, error)));
    catalog.models().keySet().forEach(name -> status.put(name, new JsonObject().put("status", "loading")
        .put("model", name)));
  }

  /**
   * One inference verticle per model of the catalog, supervised; completes when every model that
   * can load is warm, fails when none can. Status goes to {@link InferenceVerticle#STATUS_MAP}.
   */
  private static Future<Void> deployModels(Vertx vertx, AppConfig config, ModelCatalog catalog, SessionFactory sessions) {
    var status = vertx.sharedData().<String, JsonObject>getLocalMap(InferenceVerticle.STATUS_MAP);
    superviseInference(vertx, config, catalog, sessions);
    List<Future<String>> loads = new ArrayList<>();
    for (ModelDescriptor model : catalog.models().values()) {
      loads.add(deployInference(vertx, config, model, sessions).onFailure(err -> {
        String msg = String.valueOf(err.getMessage());
        LOG.severe("event=model_failed model=" + model.name() + " error=\"" + msg.replace('"', '\'') + "\"");
        status.put(model.name(), failed(model.name(), msg));
      }));
    }
    return Future.join(loads).transform(ar -> {
      long ready = catalog.models().keySet().stream()
          .filter(n -> "ready".equals(status.get(n) == null ? null : status.get(n).getString("status"))).count();
      if (ready == 0) {
        return Future.failedFuture("no model could be loaded: " + status.values().stream()
            .map(j -> j.getString("error", "")).filter(e -> !e.isEmpty()).toList());
      }
      return Future.succeededFuture((Void) null);
    });
  }

  private static JsonObject failed(String name, String error) {
    return new JsonObject().put("status", "failed").put("model", name).put("error", error);
  }
}
