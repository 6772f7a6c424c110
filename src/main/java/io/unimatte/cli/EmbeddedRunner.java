package io.unimatte.cli;

import io.unimatte.Main;
import io.unimatte.UnimatteServer;
import io.unimatte.config.AppConfig;
import io.unimatte.error.CodedException;
import io.unimatte.error.ErrorCode;
import io.unimatte.imaging.output.OutputOptions;
import io.unimatte.inference.InferenceVerticle;
import io.unimatte.modelimport.ModelImporter;
import io.unimatte.service.MatteException;
import io.unimatte.service.MatteRequest;
import io.unimatte.service.MatteResult;
import io.unimatte.service.MattingService;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Embedded mode: the served model loads in this process and every image goes through the same
 * {@link MattingService} as the server's uploads and jobs (decode and encode on the imaging pool,
 * dynamic batches on the inference worker), with no HTTP. At most {@code parallel} images are in
 * the pipeline at once, like a server job's {@code jobs.maxInFlight}, so a folder of 10 000 photos
 * never sits decoded in memory; their files are read one step ahead on the calling thread.
 */
final class EmbeddedRunner implements Runner {
  /** How long the models may take to load (the first run imports ISNet: about a minute). */
  private static final long START_TIMEOUT_MINUTES = 30;
  private static final long CLOSE_TIMEOUT_SECONDS = 60;
  /** Threads that write outputs: the event loop must not wait on the disk. */
  private static final int WRITER_THREADS = 2;
  /** The job id of the tool's images in progress events and logs. */
  private static final String JOB_ID = "cli";

  private final AppConfig config;
  private final String model;
  private final OutputOptions options;
  private final int parallel;
  private final long maxBytes;
  private final Report report;
  private Vertx vertx;
  private MattingService service;
  private ExecutorService writers;

  /**
   * @param config   the configuration, whose {@code models} section serves {@code model}
   * @param parallel images in the pipeline at once
   */
  EmbeddedRunner(AppConfig config, String model, OutputOptions options, int parallel, Report report) {
    this.config = config;
    this.model = model;
    this.options = options;
    this.parallel = parallel;
    this.report = report;
    this.maxBytes = AppConfig.requireLong(config.section("imaging"), "maxBytes");
  }

  @Override
  public void start() throws StartException {
    JsonObject models = config.section("models");
    Path folder = Path.of(models.getString("dir")).resolve(model);
    if (models.getBoolean("autoImport", true) && !ModelImporter.isImported(folder)) {
      report.notice("model " + model + " is not in " + folder + " yet: importing it (the first time only)…");
    }
    Main.importMissingModels(models, false);
    report.notice("loading model " + model + "…");
    vertx = Vertx.vertx(new VertxOptions());
    writers = Executors.newFixedThreadPool(WRITER_THREADS, r -> {
      Thread t = new Thread(r, "unimatte-cli-writer");
      t.setDaemon(true);
      return t;
    });
    try {
      service = UnimatteServer.deployEmbedded(vertx, config, UnimatteServer.tensorFlowSessions(config))
          .toCompletionStage().toCompletableFuture().get(START_TIMEOUT_MINUTES, TimeUnit.MINUTES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StartException("interrupted while loading the model", e);
    } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      // the import's and the loader's own lines say more; they are log lines, shown with --verbose
      throw new StartException("the model could not be loaded: " + cause.getMessage() + " (--verbose shows the "
          + "import and load steps)", cause);
    }
    JsonObject status = vertx.sharedData().<String, JsonObject>getLocalMap(InferenceVerticle.STATUS_MAP).get(model);
    if (status == null || !"ready".equals(status.getString("status"))) {
      throw new StartException("model '" + model + "' could not be loaded: "
          + (status == null ? "it is not served" : status.getString("error", status.getString("status"))), null);
    }
  }

  @Override
  public int run(List<InputSet.Item> items, Report report, StopSignal stop) throws InterruptedException {
    Semaphore slots = new Semaphore(parallel);
    // one context for every call, as a server job runs on the jobs verticle's
    Context context = vertx.getOrCreateContext();
    int started = 0;
    for (InputSet.Item item : items) {
      slots.acquire();
      if (stop.requested()) {
        slots.release();
        break;
      }
      started++;
      byte[] data;
      try {
        data = item.read(maxBytes);
      } catch (CodedException e) {
        report.failed(item.name(), e.code(), e.getMessage(), null);
        slots.release();
        continue;
      } catch (IOException e) {
        report.failed(item.name(), Report.READ_FAILED, e.getMessage(), null);
        slots.release();
        continue;
      }
      long t0 = System.nanoTime();
      MatteRequest request = new MatteRequest(JOB_ID, started - 1, data, options, false, model);
      context.runOnContext(v -> service.matte(request).onComplete(ar -> writers.execute(() -> {
        try {
          finish(item, ar, t0, report);
        } finally {
          slots.release();
        }
      })));
    }
    slots.acquire(parallel); // every image started is reported
    slots.release(parallel);
    return items.size() - started;
  }

  private void finish(InputSet.Item item, AsyncResult<MatteResult> ar, long t0, Report report) {
    if (ar.failed()) {
      Throwable err = ar.cause();
      if (err instanceof MatteException me) {
        report.failed(item.name(), me.code(), me.getMessage(), null);
      } else {
        report.failed(item.name(), ErrorCode.INTERNAL_ERROR.code(), String.valueOf(err.getMessage()), null);
      }
      return;
    }
    MatteResult r = ar.result();
    try {
      AtomicFiles.write(item.output(), r.bytes());
    } catch (IOException | RuntimeException e) {
      report.failed(item.name(), Report.WRITE_FAILED, item.output() + ": " + e.getMessage(), null);
      return;
    }
    report.done(item.name(), new Report.Done(item.output().toString(), r.width(), r.height(), r.model(),
        r.confidence().score(), r.review(), r.cacheHit(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), null));
  }

  @Override
  public String where() {
    return "embedded, model " + model;
  }

  @Override
  public void close() {
    if (service != null) {
      service.close();
    }
    if (writers != null) {
      writers.shutdown();
    }
    if (vertx != null) {
      try {
        // undeploys the inference verticle: its engine drains and its TensorFlow session closes
        vertx.close().toCompletionStage().toCompletableFuture().get(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      } catch (Exception e) {
        // exiting anyway
      }
    }
  }
}
