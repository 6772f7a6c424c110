package io.unimatte;

import io.unimatte.cluster.ClusterSettings;
import io.unimatte.config.AppConfig;
import io.unimatte.modelimport.ModelDescriptor;
import io.unimatte.modelimport.ModelImporter;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;

/**
 * Starts Unimatte: reads {@code config.json} (+ env + flags), imports the default model on first
 * run, deploys the verticles, and on SIGTERM undeploys them gracefully ({@link UnimatteServer#stop}:
 * queued images finish or fail with a code, none is dropped silently; batch jobs resume at the next start).
 */
public final class Main {
  static {
    OneLineLogFormatter.keepOpenAtShutdown(); // before the first logger below
  }

  private static final Logger LOG = Logger.getLogger(Main.class.getName());
  /** Bound on how long a graceful stop may take before the JVM exits anyway. */
  private static final long SHUTDOWN_WAIT_SECONDS = 120;
  /** Models the project can fetch and import by itself, by name. */
  private static final Map<String, BuiltIn> BUILT_IN = Map.of(
      "isnet", new BuiltIn(ModelImporter::ensureIsnet, ModelImporter::describeIsnet),
      "rvm", new BuiltIn(ModelImporter::ensureRvm, ModelImporter::describeRvm));

  private interface ImportStep {
    Path run(Path modelsDir) throws Exception;
  }

  /** The full import, and the descriptor alone for a cluster front (it never loads weights). */
  private record BuiltIn(ImportStep importer, ImportStep describer) {
  }

  private Main() {
  }

  /**
   * With {@code models.autoImport}, fetches and imports each served model the project knows how to
   * build ({@link #BUILT_IN}) whose folder lacks {@code model.json} or the SavedModel. A front
   * ({@code descriptorsOnly}) only needs to know the models' inputs: it writes the missing
   * {@code model.json} files and downloads nothing. A failure is one log line; the model is then
   * reported as failed and the others still start. (Also run by the command-line tool before it loads
   * the models in-process.)
   */
  public static void importMissingModels(JsonObject models, boolean descriptorsOnly) {
    if (!models.getBoolean("autoImport", true)) {
      return;
    }
    Path dir = Path.of(models.getString("dir"));
    JsonArray serve = models.getJsonArray("serve", new JsonArray()).copy().add(models.getString("default"));
    for (Object entry : serve.stream().distinct().toList()) {
      if (!(entry instanceof String name) || !BUILT_IN.containsKey(name)) {
        continue;
      }
      Path folder = dir.resolve(name);
      if (descriptorsOnly ? Files.isRegularFile(folder.resolve(ModelDescriptor.FILE_NAME))
          : ModelImporter.isImported(folder)) {
        continue;
      }
      try {
        if (descriptorsOnly) {
          BUILT_IN.get(name).describer().run(dir);
          LOG.info("event=model_described model=" + name + " dir=" + folder + " weights=not_needed_on_front");
        } else {
          LOG.info("event=model_import_start model=" + name + " dir=" + folder);
          BUILT_IN.get(name).importer().run(dir);
        }
      } catch (Exception e) {
        LOG.severe("event=model_import_failed model=" + name + " error=\"" + e.getMessage() + "\"");
      }
    }
  }

  public static void main(String[] args) {
    OneLineLogFormatter.install();
    long t0 = System.nanoTime();
    AppConfig config;
    ClusterSettings cluster;
    try {
      config = AppConfig.load(Path.of(System.getProperty("unimatte.config", AppConfig.DEFAULT_FILE)),
          System.getenv(), args);
      cluster = ClusterSettings.from(config.section("cluster")); // a bad role or member list fails here
    } catch (IllegalArgumentException e) {
      System.err.println("unimatte: " + e.getMessage());
      System.exit(2);
      return;
    }
    importMissingModels(config.section("models"), cluster.role() == ClusterSettings.Role.FRONT);
    run(config, UnimatteServer.tensorFlowSessions(config), t0);
  }

  /**
   * Starts the configured role and closes it gracefully on SIGTERM; exits with 1 when it cannot
   * start. (Also the entry point of tests that run a node as its own process.)
   */
  public static void run(AppConfig config, UnimatteServer.SessionFactory sessions, long t0) {
    AtomicReference<Vertx> running = new AtomicReference<>();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      Vertx vertx = running.get();
      if (vertx == null) {
        return;
      }
      LOG.info("event=shutdown_start");
      UnimatteServer.stop(vertx).onComplete(ar -> stopped.countDown());
      try {
        stopped.await(SHUTDOWN_WAIT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      LOG.info("event=shutdown_done");
    }, "unimatte-shutdown"));
    UnimatteServer.start(config, new VertxOptions(), sessions, running::set)
        .onSuccess(vertx -> {
          LOG.info("event=started role=" + config.section("cluster").getString("role", "all") + " port="
              + config.section("server").getInteger("port") + " startMs=" + (System.nanoTime() - t0) / 1_000_000);
        })
        .onFailure(err -> {
          System.err.println("unimatte: failed to start: " + err.getMessage());
          System.exit(1);
        });
  }
}
