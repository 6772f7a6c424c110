package io.unimatte.jobs;

import io.unimatte.error.ErrorCode;
import io.unimatte.config.AppConfig;
import io.unimatte.inference.InferenceVerticle;
import io.unimatte.inference.LocalCodec;
import io.unimatte.inference.ModelCatalog;
import io.unimatte.service.MatteException;
import io.unimatte.service.MatteRequest;
import io.unimatte.service.MatteResult;
import io.unimatte.service.MattingService;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.logging.Logger;

/**
 * Owns batch jobs: their state, their files on disk and the pace at which their images enter
 * the inference queue. One instance per server; the API verticles talk to it over the event bus.
 *
 * <p>Items are fed to the pipeline at most {@code jobs.maxInFlight} at a time, so a 500-image
 * job neither floods the bounded inference queue (refusing live uploads) nor holds 500 decoded
 * images in memory. An item refused with {@code queue_full} is retried after its Retry-After;
 * every other failure is recorded on the item with its code. Items that were running when the
 * server stopped are marked {@code failed} with code {@code interrupted} and {@code retryable}
 * at the next start: never silently lost.
 */
public final class JobsVerticle extends VerticleBase {
  /** Event-bus addresses (request/reply, JSON unless noted). */
  public static final String CREATE = "unimatte.jobs.create";
  public static final String GET = "unimatte.jobs.get";
  public static final String LIST = "unimatte.jobs.list";
  public static final String DELETE = "unimatte.jobs.delete";
  /** Published when an item is finished (stored or failed): {@code {type:"item", jobId, item}}. */
  public static final String EVENTS = "unimatte.jobs.events";

  private final ModelCatalog models;
  private static final Logger LOG = Logger.getLogger(JobsVerticle.class.getName());
  private static final Set<String> TERMINAL = Set.of("done", "failed");

  private final Map<String, JsonObject> jobs = new LinkedHashMap<>();
  private final Map<String, List<JobSubmission.NamedImage>> inputs = new HashMap<>();
  private final Map<String, io.unimatte.imaging.output.OutputOptions> options = new HashMap<>();
  private final Deque<int[]> pendingIdx = new ArrayDeque<>();
  private final Deque<String> pendingJob = new ArrayDeque<>();
  private final Set<String> running = new HashSet<>();
  private JobStore store;
  private final MattingService service;
  private int inFlight;
  private int maxInFlight;
  private int maxItems;
  private int maxJobsPerClient;

  /** Registers the local codec for {@link JobSubmission}; idempotent. */
  public static void registerCodecs(EventBus bus) {
    try {
      bus.registerDefaultCodec(JobSubmission.class, new LocalCodec<>(JobSubmission.class));
    } catch (IllegalStateException alreadyRegistered) {
      // already there: another deployment in this Vert.x instance
    }
  }

  /**
   * @param models  the served models (jobs name one per job)
   * @param service the matting pipeline (with its result cache), owned by the caller
   */
  public JobsVerticle(ModelCatalog models, MattingService service) {
    this.models = models;
    this.service = service;
  }

  @Override
  public Future<?> start() {
    JsonObject all = config();
    JsonObject cfg = all.getJsonObject("jobs");
    maxInFlight = AppConfig.requireInt(cfg, "maxInFlight");
    maxItems = AppConfig.requireInt(cfg, "maxItemsPerJob");
    maxJobsPerClient = AppConfig.requireInt(cfg, "maxConcurrentJobsPerClient");
    Path root = Path.of(AppConfig.requireString(cfg, "outputsDir"));
    Duration maxAge = Duration.ofHours(AppConfig.requireLong(cfg, "maxAgeHours"));
    long maxBytes = AppConfig.requireLong(cfg, "maxTotalBytes");
    long cleanupMs = AppConfig.requireLong(cfg, "cleanupIntervalSeconds") * 1000;
    registerCodecs(vertx.eventBus());
    return vertx.executeBlocking(() -> {
      store = JobStore.create(root);
      List<JsonObject> loaded = store.loadAll();
      for (JsonObject job : loaded) {
        if (markInterrupted(job)) {
          store.save(job);
        }
      }
      return loaded;
    }).map(loaded -> {
      // newest first on disk; keep insertion order oldest → newest here
      for (int i = loaded.size() - 1; i >= 0; i--) {
        jobs.put(loaded.get(i).getString("id"), loaded.get(i));
      }
      EventBus bus = vertx.eventBus();
      bus.<JobSubmission>localConsumer(CREATE, this::create);
      bus.<JsonObject>localConsumer(GET, m -> {
        JsonObject j = jobs.get(m.body().getString("id"));
        m.reply(j == null ? null : j.copy());
      });
      bus.<JsonObject>localConsumer(LIST, m -> {
        JsonArray list = new JsonArray();
        List<JsonObject> newestFirst = new ArrayList<>(jobs.values());
        java.util.Collections.reverse(newestFirst);
        newestFirst.forEach(j -> list.add(summary(j)));
        m.reply(new JsonObject().put("jobs", list));
      });
      bus.<JsonObject>localConsumer(DELETE, this::delete);
      // consumer(): on a cluster the workers publish progress from other nodes
      bus.<JsonObject>consumer(InferenceVerticle.PROGRESS_ADDRESS, m -> onProgress(m.body()));
      vertx.setPeriodic(cleanupMs, cleanupMs, t -> cleanup(maxAge, maxBytes));
      LOG.info("event=jobs_ready loaded=" + jobs.size() + " dir=" + root);
      return null;
    });
  }

  /** Marks items that never finished (server stopped mid-job) as failed-retryable. */
  static boolean markInterrupted(JsonObject job) {
    boolean changed = false;
    for (Object o : job.getJsonArray("items")) {
      JsonObject item = (JsonObject) o;
      if (!TERMINAL.contains(item.getString("stage"))) {
        item.put("stage", "failed").put("code", ErrorCode.INTERRUPTED.code()).put("retryable", true)
            .put("message", "the server stopped before this image was finished; submit it again");
        changed = true;
      }
    }
    if (changed) {
      updateCounts(job);
    }
    return changed;
  }

  private static void updateCounts(JsonObject job) {
    int done = 0;
    int failed = 0;
    JsonArray items = job.getJsonArray("items");
    for (Object o : items) {
      String stage = ((JsonObject) o).getString("stage");
      done += "done".equals(stage) ? 1 : 0;
      failed += "failed".equals(stage) ? 1 : 0;
    }
    job.put("done", done).put("failed", failed);
    job.put("status", done + failed == items.size() ? (failed == 0 ? "done" : done == 0 ? "failed" : "partial")
        : done + failed > 0 ? "running" : job.getString("status", "queued"));
  }

  private static JsonObject summary(JsonObject job) {
    return new JsonObject().put("id", job.getString("id")).put("createdAt", job.getLong("createdAt"))
        .put("status", job.getString("status")).put("total", job.getJsonArray("items").size())
        .put("done", job.getInteger("done", 0)).put("failed", job.getInteger("failed", 0))
        .put("output", job.getString("output")).put("source", job.getString("source"));
  }

  private void create(Message<JobSubmission> msg) {
    JobSubmission s = msg.body();
    if (s.images().isEmpty()) {
      msg.fail(ErrorCode.MISSING_IMAGE.status(), ErrorCode.MISSING_IMAGE.code());
      return;
    }
    if (s.images().size() > maxItems) {
      msg.fail(ErrorCode.TOO_MANY_ITEMS.status(), ErrorCode.TOO_MANY_ITEMS.code());
      return;
    }
    long mine = running.stream().filter(r -> s.client().equals(jobs.get(r).getString("client"))).count();
    if (mine >= maxJobsPerClient) {
      msg.fail(ErrorCode.TOO_MANY_JOBS.status(), ErrorCode.TOO_MANY_JOBS.code());
      return;
    }
    String id = UUID.randomUUID().toString();
    JsonArray items = new JsonArray();
    for (int i = 0; i < s.images().size(); i++) {
      items.add(new JsonObject().put("index", i).put("name", s.images().get(i).name()).put("stage", "queued"));
    }
    JsonObject job = new JsonObject().put("id", id).put("createdAt", System.currentTimeMillis())
        .put("status", "queued").put("output", s.options().matteOnly() ? "alpha" : "rgba").put("format", s.options().format())
        .put("options", s.options().canonical()).put("withMatte", s.withMatte()).put("model", s.model())
        .put("source", s.source()).put("client", s.client()).put("total", items.size()).put("done", 0).put("failed", 0).put("items", items);
    jobs.put(id, job);
    inputs.put(id, new ArrayList<>(s.images()));
    options.put(id, s.options());
    running.add(id);
    persist(job);
    LOG.info("event=job_created job=" + id + " items=" + items.size() + " source=" + s.source());
    msg.reply(job.copy());
    for (int i = 0; i < items.size(); i++) {
      pendingJob.add(id);
      pendingIdx.add(new int[] {i});
    }
    dispatch();
  }

  private void dispatch() {
    while (inFlight < maxInFlight && !pendingJob.isEmpty()) {
      String id = pendingJob.poll();
      int index = pendingIdx.poll()[0];
      JsonObject job = jobs.get(id);
      List<JobSubmission.NamedImage> in = inputs.get(id);
      if (job == null || in == null) {
        continue; // deleted meanwhile
      }
      inFlight++;
      run(job, in, index);
    }
  }

  private void run(JsonObject job, List<JobSubmission.NamedImage> in, int index) {
    String id = job.getString("id");
    io.unimatte.imaging.output.OutputOptions opts = options.get(id);
    String file = index + "." + opts.format();
    service.matte(new MatteRequest(id, index, in.get(index).data(), opts, job.getBoolean("withMatte", false),
            job.getString("model")))
        .compose(res -> vertx.executeBlocking(() -> {
          store.writeResult(id, file, res.bytes());
          if (res.matteBytes() != null) {
            store.writeResult(id, index + ".alpha.png", res.matteBytes());
          }
          return res;
        }))
        .onComplete(ar -> {
          inFlight--;
          JsonObject item = job.getJsonArray("items").getJsonObject(index);
          if (TERMINAL.contains(item.getString("stage"))) {
            // one result per item: a second completion (a retried image answered twice) is dropped
            LOG.warning("event=item_completed_twice job=" + id + " item=" + index);
            dispatch();
            return;
          }
          if (ar.succeeded()) {
            MatteResult r = ar.result();
            item.put("stage", "done").put("width", r.width()).put("height", r.height())
                .put("bytes", r.bytes().length).put("model", r.model()).put("file", file)
                .put("contentType", r.contentType()).put("cached", r.cacheHit())
                .put("confidence", r.confidence().score()).put("review", r.review())
                .put("url", "/api/v1/jobs/" + id + "/items/" + index);
            finishItem(job, item);
          } else if (ar.cause() instanceof MatteException me && me.error() == ErrorCode.QUEUE_FULL && jobs.containsKey(id)) {
            // the live traffic filled the queue: this item waits its turn instead of failing
            item.put("stage", "queued");
            vertx.setTimer(Math.max(1, me.retryAfterSecs()) * 1000, t -> {
              pendingJob.addFirst(id);
              pendingIdx.addFirst(new int[] {index});
              dispatch();
            });
          } else {
            MatteException me = ar.cause() instanceof MatteException m ? m
                : new MatteException(ErrorCode.INTERNAL_ERROR, String.valueOf(ar.cause().getMessage()));
            item.put("stage", "failed").put("code", me.code()).put("message", me.getMessage())
                .put("retryable", me.error().retryable());
            finishItem(job, item);
          }
          dispatch();
        });
  }


  private void finishItem(JsonObject job, JsonObject item) {
    String id = job.getString("id");
    updateCounts(job);
    if (job.getInteger("done") + job.getInteger("failed") == job.getJsonArray("items").size()) {
      running.remove(id);
      inputs.remove(id);
      options.remove(id);
      job.put("finishedAt", System.currentTimeMillis());
      LOG.info("event=job_finished job=" + id + " status=" + job.getString("status") + " done="
          + job.getInteger("done") + " failed=" + job.getInteger("failed"));
    }
    persist(job);
    vertx.eventBus().publish(EVENTS, new JsonObject().put("type", "item").put("jobId", id)
        .put("status", job.getString("status")).put("done", job.getInteger("done"))
        .put("failed", job.getInteger("failed")).put("total", job.getJsonArray("items").size())
        .put("item", item.copy()));
  }

  private void onProgress(JsonObject e) {
    JsonObject job = jobs.get(e.getString("jobId"));
    if (job == null) {
      return;
    }
    JsonObject item = job.getJsonArray("items").getJsonObject(e.getInteger("index"));
    String stage = e.getString("stage");
    // done/failed are recorded when the result is stored, not when the pipeline says so
    if (item != null && !TERMINAL.contains(item.getString("stage")) && !TERMINAL.contains(stage)) {
      item.put("stage", stage);
    }
  }

  private void persist(JsonObject job) {
    JsonObject copy = job.copy();
    vertx.executeBlocking(() -> {
      store.save(copy);
      return null;
    }, true).onFailure(err -> LOG.warning("event=job_save_failed job=" + copy.getString("id") + " error=" + err));
  }

  private void delete(Message<JsonObject> m) {
    String id = m.body().getString("id");
    if (!jobs.containsKey(id)) {
      m.reply(false);
      return;
    }
    jobs.remove(id);
    inputs.remove(id);
    running.remove(id);
    vertx.executeBlocking(() -> store.delete(id), true).onComplete(ar -> m.reply(true));
  }

  private void cleanup(Duration maxAge, long maxBytes) {
    Set<String> keep = Set.copyOf(running);
    vertx.executeBlocking(() -> store.cleanup(maxAge, maxBytes, keep, System.currentTimeMillis()), false)
        .onSuccess(deleted -> {
          deleted.forEach(jobs::remove);
          if (!deleted.isEmpty()) {
            LOG.info("event=jobs_cleaned deleted=" + deleted.size());
          }
        })
        .onFailure(err -> LOG.warning("event=jobs_cleanup_failed error=" + err.getMessage()));
  }

  /** Path of a stored result, for the API verticles to stream. */
  public static Path resultPath(Path outputsDir, String jobId, String fileName) {
    return outputsDir.resolve(jobId).resolve("items").resolve(fileName);
  }

  @Override
  public Future<?> stop() {
    // images not finished now will not be: fail them with a retryable code before the last save
    // (a crash skips this; the next start then marks them the same way)
    List<Future<Object>> saves = new ArrayList<>();
    pendingJob.clear();
    pendingIdx.clear();
    for (String id : running) {
      markInterrupted(jobs.get(id));
      LOG.info("event=job_interrupted job=" + id + " done=" + jobs.get(id).getInteger("done")
          + " failed=" + jobs.get(id).getInteger("failed"));
      JsonObject copy = jobs.get(id).copy();
      saves.add(vertx.executeBlocking(() -> {
        store.save(copy);
        return null;
      }));
    }
    return Future.join(saves);
  }
}
