package io.unimatte.jobs;

import io.unimatte.error.ErrorCode;
import io.unimatte.config.AppConfig;
import io.unimatte.imaging.output.OutputOptions;
import io.unimatte.inference.InferenceVerticle;
import io.unimatte.inference.LocalCodec;
import io.unimatte.inference.ModelCatalog;
import io.unimatte.jobs.impl.StoredOptions;
import io.unimatte.service.MatteException;
import io.unimatte.service.MatteRequest;
import io.unimatte.service.MatteResult;
import io.unimatte.service.MattingService;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
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
import java.util.function.IntPredicate;
import java.util.logging.Logger;

/**
 * Owns batch jobs: their state, their files on disk and the pace at which their images enter
 * the inference queue. One instance per server; the API verticles talk to it over the event bus.
 *
 * <p>Durable: a job is acknowledged only once its images and its record are on disk
 * ({@link JobStore#commit}); the heap holds only the images in flight, at most
 * {@code jobs.maxInFlight} at a time, so a 500-image job neither floods the bounded inference
 * queue (refusing live uploads) nor sits in memory. An image's input is deleted once its result
 * and the record saying so are stored (unless {@code jobs.keepInputs}), and kept while it may be
 * retried. At start, every item that is not finished and whose input is on disk is queued again,
 * in order; one whose input is gone fails with {@code input_missing}. On SIGTERM the images in
 * flight may finish within the inference grace period; the rest stay queued for the next start.
 * An item refused with {@code queue_full} or {@code model_not_ready} waits and is sent again;
 * every other failure is recorded on the item with its code, and the retryable ones can be queued
 * again on request ({@link #RETRY}).
 *
 * <p>Every job has an owner ({@link Viewer}). Each message that names or lists jobs carries the
 * viewer asking, and a job the viewer may not see is answered exactly like one that does not
 * exist. Answers never carry a job's owner or client (another client's address or key id).
 *
 * <p>Longer than it should be: admission, durable resume, dispatch, cancel, retry, retention and the
 * event-bus answers all share the in-memory job table, and this round added several of them at once; the
 * next change here should split it (dispatch and retention into their own classes over that table).
 */
public final class JobsVerticle extends VerticleBase {
  /**
   * Event-bus addresses (request/reply, JSON unless noted). GET, LIST, DELETE and RETRY bodies carry
   * the {@link Viewer} asking ({@link Viewer#addTo}); GET answers null for a job it may not see.
   */
  public static final String CREATE = "unimatte.jobs.create";
  public static final String GET = "unimatte.jobs.get";
  /**
   * {@code {offset, limit, review}} → {@code {jobs, total, offset, limit}}: one page of job summaries,
   * newest first; with {@code review: true} only the jobs that have images flagged for review.
   */
  public static final String LIST = "unimatte.jobs.list";
  /** {@code {id}} → true once the job is gone; its queued images never start and its running ones are dropped. */
  public static final String DELETE = "unimatte.jobs.delete";
  /**
   * {@code {id}} → the job with its unfinished images stopped ({@code failed}, code {@code cancelled}) and
   * {@code cancelled}: how many; finished images and the job itself stay.
   */
  public static final String CANCEL = "unimatte.jobs.cancel";
  /** A single cutout already made ({@link SingleRecord}) → the finished one-image job that records it. */
  public static final String RECORD = "unimatte.jobs.record";
  /** {@code {id}} → the job with its retryable failed items queued again, and {@code retried}: how many. */
  public static final String RETRY = "unimatte.jobs.retry";
  /**
   * Published when an item is finished (stored or failed): {@code {type:"item", jobId, item}};
   * when failed items are queued again: {@code {type:"requeued", jobId, items:[indexes]}}; and when a
   * job is deleted: {@code {type:"deleted", jobId}}.
   */
  public static final String EVENTS = "unimatte.jobs.events";
  /** Item code: the input of an unfinished item is not on disk any more. */
  public static final String INPUT_MISSING = ErrorCode.INPUT_MISSING.code();

  private static final Logger LOG = Logger.getLogger(JobsVerticle.class.getName());
  private static final Set<String> TERMINAL = Set.of("done", "failed");
  /** Record fields that say who made a job: never in an answer. */
  private static final List<String> PRIVATE_FIELDS = List.of("client", "owner");
  /** Refusals after which an item just waits (Retry-After) and goes again: busy, or its model still loading. */
  private static final Set<ErrorCode> WAIT_CODES = Set.of(ErrorCode.QUEUE_FULL, ErrorCode.MODEL_NOT_READY);
  /** How often the dispatcher looks again whether a loading model is ready. */
  private static final long MODEL_POLL_MS = 250;
  /** On SIGTERM: time beyond the inference grace period for in-flight images to be encoded and stored. */
  private static final long STOP_MARGIN_MS = 15_000;
  /** History pages: the size when none is asked for, and the largest. */
  public static final int DEFAULT_PAGE = 50;
  public static final int MAX_PAGE = 200;
  /** File names a job summary carries (the rest are counted in {@code total}). */
  private static final int NAMES_IN_SUMMARY = 3;
  /** Pace of one image before any finished (a guess for {@code retryAfter}), and how fast the average follows. */
  private static final double FIRST_ITEM_MS = 1000;
  private static final double ITEM_MS_WEIGHT = 0.2;
  /** Bounds of a {@code too_many_jobs} retry hint. */
  private static final long MAX_RETRY_AFTER_SECS = 300;
  /** Message of the images a cancel stopped. */
  private static final String CANCELLED_MESSAGE = "the job was cancelled before this image was finished";

  private final ModelCatalog models;
  private final Map<String, JsonObject> jobs = new LinkedHashMap<>();
  /** Jobs whose inputs are being committed: not visible yet, but counted against the limits. */
  private final Map<String, JsonObject> committing = new HashMap<>();
  /** Output options of running jobs. */
  private final Map<String, OutputOptions> options = new HashMap<>();
  private final Deque<Pending> pending = new ArrayDeque<>();
  private final Set<String> running = new HashSet<>();
  private final Map<String, Saver> savers = new HashMap<>();
  private JobStore store;
  private final MattingService service;
  private int inFlight;
  private int maxInFlight;
  private int maxItems;
  private int maxJobsPerClient;
  private long maxTotalBytes;
  private boolean keepInputs;
  private long stopWaitMs;
  private boolean modelPollScheduled;
  /** Moving average of an image's time in the pipeline (read to the stored result), for retry hints. */
  private double itemMs = FIRST_ITEM_MS;
  /** A retention scan is running. */
  private boolean cleaning;
  /** SIGTERM received: nothing new starts; what is in flight may finish. */
  private boolean stopping;
  /** The last save is written: late completions are dropped (their items are queued on disk). */
  private boolean closed;
  private Promise<Void> drained;

  /** One image of a job waiting for a place in the pipeline. */
  private record Pending(String jobId, int index) {
  }

  /**
   * A refusal that says when asking again may pass: the event-bus failure ({@code failureCode} the HTTP
   * status, message the code) with {@code retryAfterSecs}. Local replies keep the instance.
   */
  public static final class Refusal extends ReplyException {
    private final long retryAfterSecs;

    Refusal(ErrorCode code, long retryAfterSecs) {
      super(ReplyFailure.RECIPIENT_FAILURE, code.status(), code.code());
      this.retryAfterSecs = retryAfterSecs;
    }

    /** Seconds after which the same request may be accepted. */
    public long retryAfterSecs() {
      return retryAfterSecs;
    }
  }

  /** Saves of one job, one at a time; requests arriving meanwhile share the next save. */
  private static final class Saver {
    private Future<Void> current;
    private Promise<Void> next;
  }

  /** Registers the local codec for {@link JobSubmission}; idempotent. */
  public static void registerCodecs(EventBus bus) {
    try {
      bus.registerDefaultCodec(JobSubmission.class, new LocalCodec<>(JobSubmission.class));
    } catch (IllegalStateException alreadyRegistered) {
      // already there: another deployment in this Vert.x instance
    }
    try {
      bus.registerDefaultCodec(SingleRecord.class, new LocalCodec<>(SingleRecord.class));
    } catch (IllegalStateException alreadyRegistered) {
      // as above
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

  private record Loaded(List<JsonObject> jobs, Map<String, List<Integer>> resume) {
  }

  @Override
  public Future<?> start() {
    JsonObject all = config();
    JsonObject cfg = all.getJsonObject("jobs");
    maxInFlight = AppConfig.requireInt(cfg, "maxInFlight");
    maxItems = AppConfig.requireInt(cfg, "maxItemsPerJob");
    maxJobsPerClient = AppConfig.requireInt(cfg, "maxConcurrentJobsPerClient");
    keepInputs = AppConfig.requireBoolean(cfg, "keepInputs");
    stopWaitMs = AppConfig.requireLong(all.getJsonObject("inference"), "shutdownGraceMs") + STOP_MARGIN_MS;
    Path root = Path.of(AppConfig.requireString(cfg, "outputsDir"));
    Duration maxAge = Duration.ofHours(AppConfig.requireLong(cfg, "maxAgeHours"));
    maxTotalBytes = AppConfig.requireLong(cfg, "maxTotalBytes");
    long cleanupMs = AppConfig.requireLong(cfg, "cleanupIntervalSeconds") * 1000;
    registerCodecs(vertx.eventBus());
    return vertx.executeBlocking(() -> {
      store = JobStore.create(root);
      List<JsonObject> loaded = store.recover();
      Map<String, List<Integer>> resume = new LinkedHashMap<>();
      for (int i = loaded.size() - 1; i >= 0; i--) { // oldest first: the order they were accepted in
        JsonObject job = loaded.get(i);
        String id = job.getString("id");
        boolean usable = StoredOptions.fromJson(job.getJsonObject("outputOptions")) != null;
        int failedBefore = job.getInteger("failed", 0);
        Set<Integer> stored = new HashSet<>(store.storedInputs(id));
        List<Integer> queue = resumable(job, index -> usable && stored.contains(index) && store.hasInput(id, index));
        dropFinishedInputs(job, stored);
        if (!queue.isEmpty()) {
          resume.put(id, queue);
        }
        if (!queue.isEmpty() || job.getInteger("failed", 0) != failedBefore) {
          store.save(job);
        }
      }
      return new Loaded(loaded, resume);
    }).map(loaded -> {
      // newest first on disk; keep insertion order oldest → newest here
      for (int i = loaded.jobs().size() - 1; i >= 0; i--) {
        jobs.put(loaded.jobs().get(i).getString("id"), loaded.jobs().get(i));
      }
      loaded.resume().forEach((id, queue) -> {
        JsonObject job = jobs.get(id);
        running.add(id);
        options.put(id, StoredOptions.fromJson(job.getJsonObject("outputOptions")));
        queue.forEach(index -> pending.add(new Pending(id, index)));
        LOG.info("event=job_resumed job=" + id + " queued=" + queue.size() + " done=" + job.getInteger("done")
            + " failed=" + job.getInteger("failed"));
      });
      EventBus bus = vertx.eventBus();
      bus.<JobSubmission>localConsumer(CREATE, this::create);
      bus.<JsonObject>localConsumer(GET, m -> {
        JsonObject j = visible(m.body());
        m.reply(j == null ? null : publicView(j));
      });
      bus.<JsonObject>localConsumer(LIST, this::list);
      bus.<JsonObject>localConsumer(DELETE, this::delete);
      bus.<JsonObject>localConsumer(CANCEL, this::cancel);
      bus.<SingleRecord>localConsumer(RECORD, this::record);
      bus.<JsonObject>localConsumer(RETRY, this::retry);
      // consumer(): on a cluster the workers publish progress from other nodes
      bus.<JsonObject>consumer(InferenceVerticle.PROGRESS_ADDRESS, m -> onProgress(m.body()));
      vertx.setPeriodic(cleanupMs, cleanupMs, t -> cleanup(maxAge, maxTotalBytes));
      LOG.info("event=jobs_ready loaded=" + jobs.size() + " resumed=" + loaded.resume().size() + " dir=" + root);
      dispatch();
      return null;
    });
  }

  /**
   * Deletes the inputs of finished items that a crash left behind (between the record saying
   * "done" and the input's deletion). Blocking: start only.
   */
  private void dropFinishedInputs(JsonObject job, Set<Integer> stored) throws IOException {
    if (keepInputs) {
      return;
    }
    JsonArray items = job.getJsonArray("items");
    for (int index : stored) {
      JsonObject item = index < items.size() ? items.getJsonObject(index) : null;
      if (item == null || "done".equals(item.getString("stage"))
          || "failed".equals(item.getString("stage")) && !item.getBoolean("retryable", false)) {
        store.deleteInput(job.getString("id"), index);
      }
    }
  }

  /**
   * After a stop of any kind: every item that is not finished goes back to {@code queued} when its
   * input is there ({@code hasInput}), else fails with {@link #INPUT_MISSING}.
   *
   * @return the indexes to queue again, in order
   */
  static List<Integer> resumable(JsonObject job, IntPredicate hasInput) {
    List<Integer> queue = new ArrayList<>();
    boolean failed = false;
    for (Object o : job.getJsonArray("items")) {
      JsonObject item = (JsonObject) o;
      if (TERMINAL.contains(item.getString("stage"))) {
        continue;
      }
      int index = item.getInteger("index");
      if (hasInput.test(index)) {
        item.put("stage", "queued");
        queue.add(index);
      } else {
        item.put("stage", "failed").put("code", INPUT_MISSING).put("retryable", false)
            .put("message", "the stored copy of this image is missing or unreadable; submit it again");
        failed = true;
      }
    }
    if (failed || !queue.isEmpty()) {
      updateCounts(job);
    }
    return queue;
  }

  private static void updateCounts(JsonObject job) {
    int done = 0;
    int failed = 0;
    int retryable = 0;
    int flagged = 0;
    JsonArray items = job.getJsonArray("items");
    for (Object o : items) {
      JsonObject item = (JsonObject) o;
      String stage = item.getString("stage");
      done += "done".equals(stage) ? 1 : 0;
      failed += "failed".equals(stage) ? 1 : 0;
      retryable += "failed".equals(stage) && item.getBoolean("retryable", false) ? 1 : 0;
      flagged += "done".equals(stage) && item.getBoolean("review", false) ? 1 : 0;
    }
    job.put("done", done).put("failed", failed).put("retryable", retryable).put("flagged", flagged);
    job.put("status", done + failed == items.size() ? (failed == 0 ? "done" : done == 0 ? "failed" : "partial")
        : done + failed > 0 ? "running" : "queued");
  }

  /**
   * A job as the history lists it: counts, model, its first file names, the result to show as its
   * thumbnail ({@code thumb}: the first finished image, null before) and {@code flagged}: finished
   * images whose confidence is below {@code imaging.reviewThreshold}.
   */
  private static JsonObject summary(JsonObject job) {
    JsonArray names = new JsonArray();
    String thumb = null;
    for (Object o : job.getJsonArray("items")) {
      JsonObject item = (JsonObject) o;
      if (names.size() < NAMES_IN_SUMMARY) {
        names.add(item.getString("name"));
      }
      if (thumb == null && "done".equals(item.getString("stage"))) {
        thumb = item.getString("url");
      }
    }
    return new JsonObject().put("id", job.getString("id")).put("createdAt", job.getLong("createdAt"))
        .put("status", job.getString("status")).put("total", job.getJsonArray("items").size())
        .put("done", job.getInteger("done", 0)).put("failed", job.getInteger("failed", 0))
        .put("retryable", job.getInteger("retryable", 0)).put("flagged", flagged(job))
        .put("cancelled", job.containsKey("cancelledAt")).put("finishedAt", job.getLong("finishedAt"))
        .put("model", job.getString("model")).put("names", names).put("thumb", thumb)
        .put("output", job.getString("output")).put("format", job.getString("format"))
        .put("source", job.getString("source"));
  }

  /** The job named by {@code body.id} if the viewer in {@code body} may see it, else null. */
  private JsonObject visible(JsonObject body) {
    JsonObject job = jobs.get(body.getString("id"));
    return job != null && Viewer.of(body).maySee(job) ? job : null;
  }

  /** A copy of a job for an answer: without who made it. */
  private static JsonObject publicView(JsonObject job) {
    JsonObject copy = job.copy();
    PRIVATE_FIELDS.forEach(copy::remove);
    return copy;
  }

  private void list(Message<JsonObject> m) {
    JsonObject q = m.body();
    Viewer viewer = Viewer.of(q);
    int offset = Math.max(0, q.getInteger("offset", 0));
    int limit = Math.max(1, Math.min(MAX_PAGE, q.getInteger("limit", DEFAULT_PAGE)));
    boolean reviewOnly = q.getBoolean("review", false);
    List<JsonObject> newestFirst = new ArrayList<>(jobs.values());
    java.util.Collections.reverse(newestFirst);
    JsonArray page = new JsonArray();
    int total = 0;
    for (JsonObject j : newestFirst) {
      if (!viewer.maySee(j) || reviewOnly && flagged(j) == 0) {
        continue;
      }
      if (total >= offset && total < offset + limit) {
        page.add(summary(j));
      }
      total++;
    }
    m.reply(new JsonObject().put("jobs", page).put("total", total).put("offset", offset).put("limit", limit));
  }

  /** Finished images flagged for review (counted from the items: records written before the count lack it). */
  private static int flagged(JsonObject job) {
    int n = 0;
    for (Object o : job.getJsonArray("items")) {
      JsonObject item = (JsonObject) o;
      n += "done".equals(item.getString("stage")) && item.getBoolean("review", false) ? 1 : 0;
    }
    return n;
  }

  /**
   * Running jobs counted against a client's limit. A WebSocket job counts only while some of its
   * images wait for the pipeline: one whose images are all in it is about to end, and a client that
   * opens one socket per image should not be refused for jobs that no longer queue.
   */
  private long runningJobsOf(String client) {
    Set<String> waiting = new HashSet<>();
    pending.forEach(p -> waiting.add(p.jobId()));
    return running.stream().map(jobs::get)
        .filter(j -> client.equals(j.getString("client")) && (!isSocketJob(j) || waiting.contains(j.getString("id"))))
        .count()
        + committing.values().stream().filter(j -> client.equals(j.getString("client"))).count();
  }

  private static boolean isSocketJob(JsonObject job) {
    return "websocket".equals(job.getString("source"));
  }

  /**
   * Seconds until one of the client's jobs stops counting against its limit, from the images queued
   * before its last one and the recent pace of the pipeline ({@code jobs.maxInFlight} at a time).
   */
  private long retryAfter(String client) {
    Map<String, Integer> lastQueued = new HashMap<>();
    int position = 0;
    for (Pending p : pending) {
      lastQueued.put(p.jobId(), ++position);
    }
    long fewest = maxInFlight;
    for (String id : running) {
      JsonObject job = jobs.get(id);
      if (client.equals(job.getString("client"))) {
        // images to start before nothing of it waits; a job of another kind also has to finish them
        long images = lastQueued.getOrDefault(id, 0) + (isSocketJob(job) ? 0 : maxInFlight);
        fewest = Math.min(fewest, images);
      }
    }
    long secs = (long) Math.ceil(Math.max(1, fewest) / (double) maxInFlight * itemMs / 1000.0);
    return Math.max(1, Math.min(MAX_RETRY_AFTER_SECS, secs));
  }

  /** Input bytes held by jobs that retention may not delete yet. */
  private long runningInputBytes() {
    return running.stream().mapToLong(r -> jobs.get(r).getLong("inputBytes", 0L)).sum()
        + committing.values().stream().mapToLong(j -> j.getLong("inputBytes", 0L)).sum();
  }

  private void create(Message<JobSubmission> msg) {
    JobSubmission s = msg.body();
    JobInputs in = s.inputs();
    int count = in.names().size();
    int status = stopping ? 503 : count == 0 ? 400 : count > maxItems ? 413
        : runningJobsOf(s.client()) >= maxJobsPerClient ? 429
        : runningInputBytes() + in.bytes() > maxTotalBytes ? 507 : 0;
    if (status != 0) {
      ErrorCode code = switch (status) {
        case 503 -> ErrorCode.SHUTTING_DOWN;
        case 400 -> ErrorCode.MISSING_IMAGE;
        case 413 -> ErrorCode.TOO_MANY_ITEMS;
        case 429 -> ErrorCode.TOO_MANY_JOBS;
        default -> ErrorCode.STORAGE_FULL;
      };
      ReplyException refusal = code == ErrorCode.TOO_MANY_JOBS ? new Refusal(code, retryAfter(s.client()))
          : new ReplyException(ReplyFailure.RECIPIENT_FAILURE, status, code.code());
      vertx.executeBlocking(() -> {
        in.discard();
        return null;
      }, false).onComplete(ar -> msg.reply(refusal));
      return;
    }
    String id = in.jobId();
    JsonArray items = new JsonArray();
    for (int i = 0; i < count; i++) {
      items.add(new JsonObject().put("index", i).put("name", in.names().get(i)).put("stage", "queued"));
    }
    JsonObject job = new JsonObject().put("id", id).put("createdAt", System.currentTimeMillis())
        .put("status", "queued").put("output", s.options().matteOnly() ? "alpha" : "rgba")
        .put("format", s.options().format())
        .put("options", s.options().canonical()).put("outputOptions", StoredOptions.toJson(s.options()))
        .put("withMatte", s.withMatte()).put("model", s.model())
        .put("source", s.source()).put("client", s.client()).put("owner", s.owner())
        .put("total", items.size()).put("done", 0).put("failed", 0).put("retryable", 0)
        .put("inputBytes", in.bytes()).put("items", items);
    if (in.skippedCount() > 0) {
      // entries of a zip left out (not images, too large): said once, with the first few names
      JsonArray listed = new JsonArray();
      in.skipped().forEach(k -> listed.add(new JsonObject().put("name", k.name()).put("code", k.code())));
      job.put("skipped", in.skippedCount()).put("skippedEntries", listed);
    }
    committing.put(id, job);
    JsonObject record = job.copy();
    vertx.executeBlocking(() -> {
      store.commit(in, record);
      return null;
    }, false).onComplete(ar -> {
      committing.remove(id);
      if (ar.failed()) {
        LOG.warning("event=job_create_failed job=" + id + " error=" + ar.cause());
        vertx.executeBlocking(() -> {
          in.discard();
          return null;
        }, false).onComplete(v -> msg.fail(ErrorCode.INTERNAL_ERROR.status(), ErrorCode.INTERNAL_ERROR.code()));
        checkDrained();
        return;
      }
      jobs.put(id, job);
      options.put(id, s.options());
      running.add(id);
      LOG.info("event=job_created job=" + id + " items=" + count + " bytes=" + in.bytes() + " skipped="
          + in.skippedCount() + " source=" + s.source());
      msg.reply(publicView(job));
      if (stopping) {
        checkDrained(); // stored and queued on disk: the next start runs it
        return;
      }
      for (int i = 0; i < count; i++) {
        pending.add(new Pending(id, i));
      }
      dispatch();
    });
  }

  private void dispatch() {
    while (!stopping && inFlight < maxInFlight && !pending.isEmpty()) {
      Pending next = pending.peek();
      JsonObject job = jobs.get(next.jobId());
      if (job == null || !running.contains(next.jobId()) || finished(job, next.index())) {
        pending.poll(); // deleted or cancelled meanwhile
        continue;
      }
      if (modelLoading(job.getString("model"))) {
        // resumed jobs wait for their model instead of failing while it warms up
        if (!modelPollScheduled) {
          modelPollScheduled = true;
          vertx.setTimer(MODEL_POLL_MS, t -> {
            modelPollScheduled = false;
            dispatch();
          });
        }
        return;
      }
      pending.poll();
      inFlight++;
      run(job, next.index());
    }
  }

  private static boolean finished(JsonObject job, int index) {
    return TERMINAL.contains(job.getJsonArray("items").getJsonObject(index).getString("stage"));
  }

  /** Whether an image's result is still wanted: its job neither deleted nor its image cancelled meanwhile. */
  private boolean wanted(JsonObject job, int index) {
    return jobs.get(job.getString("id")) == job && !finished(job, index);
  }

  private boolean modelLoading(String model) {
    JsonObject status = vertx.sharedData().<String, JsonObject>getLocalMap(InferenceVerticle.STATUS_MAP).get(model);
    return status != null && "loading".equals(status.getString("status"));
  }

  private void run(JsonObject job, int index) {
    String id = job.getString("id");
    OutputOptions opts = options.get(id);
    String file = index + "." + opts.format();
    long started = System.nanoTime();
    // the input is read only now: the heap holds the images in flight, not the job
    vertx.executeBlocking(() -> readInput(id, index), false)
        .compose(bytes -> service.matte(new MatteRequest(id, index, bytes, opts, job.getBoolean("withMatte", false),
            job.getString("model"))))
        // a cancelled or deleted image's result is dropped here: nothing is written for it
        .compose(res -> !wanted(job, index) ? Future.<MatteResult>failedFuture(new MatteException(ErrorCode.CANCELLED,
            CANCELLED_MESSAGE)) : vertx.executeBlocking(() -> {
              store.writeResult(id, file, res.bytes());
              if (res.matteBytes() != null) {
                store.writeResult(id, index + ".alpha.png", res.matteBytes());
              }
              return res;
            }, false))
        .onComplete(ar -> {
          inFlight--;
          if (ar.succeeded()) {
            itemMs += ITEM_MS_WEIGHT * ((System.nanoTime() - started) / 1e6 - itemMs);
          }
          settle(job, index, file, ar);
          checkDrained();
          dispatch();
        });
  }

  private byte[] readInput(String id, int index) {
    try {
      return store.readInput(id, index);
    } catch (NoSuchFileException e) {
      throw new MatteException(ErrorCode.INPUT_MISSING, "the stored copy of this image is gone; submit it again");
    } catch (IOException e) {
      throw new MatteException(ErrorCode.INPUT_UNREADABLE, "the stored copy of this image cannot be read: " + e.getMessage());
    }
  }

  private void settle(JsonObject job, int index, String file, AsyncResult<MatteResult> ar) {
    String id = job.getString("id");
    if (closed || jobs.get(id) != job) {
      return; // after the last save (it is queued on disk), or deleted
    }
    JsonObject item = job.getJsonArray("items").getJsonObject(index);
    if (TERMINAL.contains(item.getString("stage"))) {
      if (!ErrorCode.CANCELLED.code().equals(item.getString("code"))) {
        // one result per item: a second completion (a retried image answered twice) is dropped
        LOG.warning("event=item_completed_twice job=" + id + " item=" + index);
      }
      return; // else cancelled while in the pipeline: its late completion is dropped
    }
    if (ar.succeeded()) {
      doneItem(item, id, index, file, ar.result());
      dropInputAfter(finishItem(job, item), id, index);
      return;
    }
    MatteException me = ar.cause() instanceof MatteException m ? m
        : new MatteException(ErrorCode.INTERNAL_ERROR, String.valueOf(ar.cause().getMessage()));
    if (stopping && me.error().retryable()) {
      // stopped under it: the input stays, the next start runs it again
      item.put("stage", "queued");
      persist(job);
    } else if (WAIT_CODES.contains(me.error())) {
      // the live traffic filled the queue, or the model is (re)loading: this item waits its turn
      item.put("stage", "queued");
      vertx.setTimer(Math.max(1, me.retryAfterSecs()) * 1000L, t -> {
        if (!stopping && wanted(job, index)) {
          pending.addFirst(new Pending(id, index));
          dispatch();
        }
      });
    } else {
      boolean retryable = me.error().retryable();
      item.put("stage", "failed").put("code", me.code()).put("message", me.getMessage()).put("retryable", retryable);
      Future<Void> saved = finishItem(job, item);
      if (!retryable) {
        dropInputAfter(saved, id, index);
      }
    }
  }

  /** Records a stored result on its item. */
  private static void doneItem(JsonObject item, String id, int index, String file, MatteResult r) {
    item.put("stage", "done").put("width", r.width()).put("height", r.height())
        .put("bytes", r.bytes().length).put("model", r.model()).put("file", file)
        .put("contentType", r.contentType()).put("cached", r.cacheHit())
        .put("confidence", r.confidence().score()).put("review", r.review())
        .put("url", "/api/v1/jobs/" + id + "/items/" + index);
  }

  /** Deletes an item's input once the record saying it is finished is on disk (never before). */
  private void dropInputAfter(Future<Void> saved, String id, int index) {
    if (keepInputs) {
      return;
    }
    saved.onSuccess(v -> vertx.executeBlocking(() -> {
      store.deleteInput(id, index);
      return null;
    }, false).onFailure(err -> LOG.warning("event=input_delete_failed job=" + id + " item=" + index + " error=" + err)));
  }

  private Future<Void> finishItem(JsonObject job, JsonObject item) {
    String id = job.getString("id");
    updateCounts(job);
    if (job.getInteger("done") + job.getInteger("failed") == job.getJsonArray("items").size()) {
      running.remove(id);
      options.remove(id);
      job.put("finishedAt", System.currentTimeMillis());
      LOG.info("event=job_finished job=" + id + " status=" + job.getString("status") + " done="
          + job.getInteger("done") + " failed=" + job.getInteger("failed"));
    }
    Future<Void> saved = persist(job);
    vertx.eventBus().publish(EVENTS, itemEvent(job, item));
    return saved;
  }

  private static JsonObject itemEvent(JsonObject job, JsonObject item) {
    return new JsonObject().put("type", "item").put("jobId", job.getString("id"))
        .put("status", job.getString("status")).put("done", job.getInteger("done"))
        .put("failed", job.getInteger("failed")).put("retryable", job.getInteger("retryable"))
        .put("flagged", job.getInteger("flagged", 0))
        .put("total", job.getJsonArray("items").size()).put("item", item.copy());
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

  /**
   * Saves the job's current state; completes once a save that includes it is on disk. Saves of
   * one job run one at a time, and the requests made meanwhile share one later save.
   */
  private Future<Void> persist(JsonObject job) {
    String id = job.getString("id");
    Saver s = savers.computeIfAbsent(id, k -> new Saver());
    if (s.current == null) {
      s.current = save(job);
      s.current.onComplete(ar -> saveNext(id, s));
      return s.current;
    }
    if (s.next == null) {
      s.next = Promise.promise();
    }
    return s.next.future();
  }

  private void saveNext(String id, Saver s) {
    Promise<Void> waiting = s.next;
    JsonObject job = jobs.get(id);
    if (waiting == null || job == null) {
      savers.remove(id);
      if (waiting != null) {
        waiting.fail("job " + id + " was deleted");
      }
      return;
    }
    s.next = null;
    s.current = save(job);
    s.current.onComplete(ar -> {
      waiting.handle(ar);
      saveNext(id, s);
    });
  }

  private Future<Void> save(JsonObject job) {
    JsonObject copy = job.copy();
    String id = copy.getString("id");
    return vertx.<Void>executeBlocking(() -> {
      store.save(copy);
      return null;
    }, false).onFailure(err -> {
      if (jobs.containsKey(id)) {
        LOG.warning("event=job_save_failed job=" + id + " error=" + err);
      }
    });
  }

  private void retry(Message<JsonObject> m) {
    String id = m.body().getString("id");
    JsonObject job = visible(m.body());
    if (stopping) {
      m.fail(ErrorCode.SHUTTING_DOWN.status(), ErrorCode.SHUTTING_DOWN.code());
      return;
    }
    if (job == null) {
      m.fail(ErrorCode.JOB_NOT_FOUND.status(), ErrorCode.JOB_NOT_FOUND.code());
      return;
    }
    List<Integer> candidates = new ArrayList<>();
    for (Object o : job.getJsonArray("items")) {
      JsonObject item = (JsonObject) o;
      if ("failed".equals(item.getString("stage")) && item.getBoolean("retryable", false)) {
        candidates.add(item.getInteger("index"));
      }
    }
    if (candidates.isEmpty()) {
      m.fail(ErrorCode.NOTHING_TO_RETRY.status(), ErrorCode.NOTHING_TO_RETRY.code());
      return;
    }
    if (!running.contains(id) && runningJobsOf(job.getString("client")) >= maxJobsPerClient) {
      m.reply(new Refusal(ErrorCode.TOO_MANY_JOBS, retryAfter(job.getString("client"))));
      return;
    }
    OutputOptions opts = StoredOptions.fromJson(job.getJsonObject("outputOptions"));
    vertx.executeBlocking(() -> candidates.stream().filter(i -> opts != null && store.hasInput(id, i)).toList(), false)
        .onComplete(ar -> requeue(m, job, candidates, opts, ar.succeeded() ? ar.result() : List.of()));
  }

  private void requeue(Message<JsonObject> m, JsonObject job, List<Integer> candidates, OutputOptions opts,
                       List<Integer> present) {
    String id = job.getString("id");
    if (jobs.get(id) != job || stopping) {
      ErrorCode code = stopping ? ErrorCode.SHUTTING_DOWN : ErrorCode.JOB_NOT_FOUND;
      m.fail(code.status(), code.code());
      return;
    }
    List<Integer> requeued = new ArrayList<>();
    for (int index : candidates) {
      JsonObject item = job.getJsonArray("items").getJsonObject(index);
      if (!"failed".equals(item.getString("stage")) || !item.getBoolean("retryable", false)) {
        continue; // changed meanwhile
      }
      if (present.contains(index)) {
        item.remove("code");
        item.remove("message");
        item.remove("retryable");
        item.put("stage", "queued").put("retries", item.getInteger("retries", 0) + 1);
        requeued.add(index);
      } else {
        item.put("code", INPUT_MISSING).put("retryable", false)
            .put("message", "the stored copy of this image is gone; submit it again");
      }
    }
    updateCounts(job);
    if (requeued.isEmpty()) {
      persist(job);
      m.fail(ErrorCode.NOTHING_TO_RETRY.status(), ErrorCode.NOTHING_TO_RETRY.code());
      return;
    }
    job.remove("finishedAt");
    running.add(id);
    options.put(id, opts);
    persist(job);
    requeued.forEach(index -> pending.add(new Pending(id, index)));
    LOG.info("event=job_retry job=" + id + " items=" + requeued.size());
    // the answer first, so a socket that asked hears "retried" before the events it causes
    m.reply(publicView(job).put("retried", requeued.size()));
    vertx.eventBus().publish(EVENTS, new JsonObject().put("type", "requeued").put("jobId", id)
        .put("items", new JsonArray(new ArrayList<>(requeued))).put("status", job.getString("status"))
        .put("done", job.getInteger("done")).put("failed", job.getInteger("failed"))
        .put("retryable", job.getInteger("retryable")).put("total", job.getJsonArray("items").size()));
    dispatch();
  }

  private void delete(Message<JsonObject> m) {
    String id = m.body().getString("id");
    if (visible(m.body()) == null) {
      m.reply(false);
      return;
    }
    JsonObject job = jobs.remove(id);
    options.remove(id);
    // its work stops first: queued images never start, and run() drops what the pipeline still returns
    boolean wasRunning = running.remove(id);
    pending.removeIf(p -> p.jobId().equals(id));
    if (wasRunning) {
      LOG.info("event=job_stopped job=" + id + " reason=deleted done=" + job.getInteger("done") + " failed="
          + job.getInteger("failed"));
    }
    vertx.eventBus().publish(EVENTS, new JsonObject().put("type", "deleted").put("jobId", id));
    vertx.executeBlocking(() -> store.delete(id), true).onComplete(ar -> m.reply(true));
  }

  /**
   * Stops a job's unfinished images: queued ones never start, those in the pipeline are dropped when
   * they come back (nothing is written); each fails with {@code cancelled}. Finished images and the
   * job stay. The answer goes first, then one {@code item} event per stopped image with the counts
   * rising to the final ones, so a follower's {@code job_done} comes after all of them.
   */
  private void cancel(Message<JsonObject> m) {
    String id = m.body().getString("id");
    JsonObject job = visible(m.body());
    if (job == null) {
      m.fail(ErrorCode.JOB_NOT_FOUND.status(), ErrorCode.JOB_NOT_FOUND.code());
      return;
    }
    List<JsonObject> stopped = new ArrayList<>();
    for (Object o : job.getJsonArray("items")) {
      JsonObject item = (JsonObject) o;
      if (!TERMINAL.contains(item.getString("stage"))) {
        item.put("stage", "failed").put("code", ErrorCode.CANCELLED.code()).put("message", CANCELLED_MESSAGE)
            .put("retryable", false);
        stopped.add(item);
      }
    }
    if (stopped.isEmpty()) {
      m.reply(publicView(job).put("cancelled", 0));
      return;
    }
    pending.removeIf(p -> p.jobId().equals(id));
    running.remove(id);
    options.remove(id);
    updateCounts(job);
    long now = System.currentTimeMillis();
    job.put("cancelledAt", now).put("finishedAt", now);
    Future<Void> saved = persist(job);
    stopped.forEach(item -> dropInputAfter(saved, id, item.getInteger("index")));
    LOG.info("event=job_cancelled job=" + id + " stopped=" + stopped.size() + " done=" + job.getInteger("done")
        + " status=" + job.getString("status"));
    m.reply(publicView(job).put("cancelled", stopped.size()));
    int failedBefore = job.getInteger("failed") - stopped.size();
    for (int k = 0; k < stopped.size(); k++) {
      boolean last = k == stopped.size() - 1;
      vertx.eventBus().publish(EVENTS, itemEvent(job, stopped.get(k)).put("failed", failedBefore + k + 1)
          .put("status", last ? job.getString("status") : "running"));
    }
    checkDrained();
  }

  /**
   * Records a single cutout made outside jobs as a finished one-image job: committed with its image
   * queued (a crash before the result is stored runs it again at the next start), then the result
   * stored and the record saved as done. Refused like a new job when stopping or out of storage.
   */
  private void record(Message<SingleRecord> msg) {
    SingleRecord r = msg.body();
    JobInputs in = r.inputs();
    ErrorCode refused = stopping ? ErrorCode.SHUTTING_DOWN
        : runningInputBytes() + in.bytes() > maxTotalBytes ? ErrorCode.STORAGE_FULL : null;
    if (refused != null || in.names().size() != 1) {
      ErrorCode code = refused != null ? refused : ErrorCode.INTERNAL_ERROR;
      vertx.executeBlocking(() -> {
        in.discard();
        return null;
      }, false).onComplete(ar -> msg.fail(code.status(), code.code()));
      return;
    }
    String id = in.jobId();
    MatteResult res = r.result();
    String file = "0." + r.options().format();
    JsonObject item = new JsonObject().put("index", 0).put("name", in.names().get(0)).put("stage", "queued");
    long now = System.currentTimeMillis();
    JsonObject job = new JsonObject().put("id", id).put("createdAt", now)
        .put("status", "queued").put("output", r.options().matteOnly() ? "alpha" : "rgba")
        .put("format", r.options().format())
        .put("options", r.options().canonical()).put("outputOptions", StoredOptions.toJson(r.options()))
        .put("withMatte", false).put("model", r.model())
        .put("source", r.source()).put("client", r.client()).put("owner", r.owner())
        .put("total", 1).put("done", 0).put("failed", 0).put("retryable", 0).put("inputBytes", in.bytes()).put("items", new JsonArray().add(item));
    committing.put(id, job);
    JsonObject queued = job.copy();
    doneItem(item, id, 0, file, res);
    updateCounts(job);
    job.put("finishedAt", now);
    JsonObject done = job.copy();
    vertx.executeBlocking(() -> {
      store.commit(in, queued);
      store.writeResult(id, file, res.bytes());
      store.save(done);
      if (!keepInputs) {
        store.deleteInput(id, 0);
      }
      return null;
    }, false).onComplete(ar -> {
      committing.remove(id);
      checkDrained();
      if (ar.failed()) {
        LOG.warning("event=single_record_failed job=" + id + " error=" + ar.cause());
        vertx.executeBlocking(() -> {
          in.discard();
          return null;
        }, false).onComplete(v -> msg.fail(ErrorCode.INTERNAL_ERROR.status(), ErrorCode.INTERNAL_ERROR.code()));
        return;
      }
      jobs.put(id, job);
      LOG.info("event=single_recorded job=" + id + " bytes=" + in.bytes() + " source=" + r.source());
      msg.reply(publicView(job));
    });
  }

  private void cleanup(Duration maxAge, long maxBytes) {
    if (cleaning) {
      return; // a big store takes longer than the interval: one scan at a time
    }
    cleaning = true;
    // only jobs finished now may go: one committed while the store is scanned is not in this set
    Set<String> deletable = new HashSet<>(jobs.keySet());
    deletable.removeAll(running);
    vertx.executeBlocking(() -> store.cleanup(maxAge, maxBytes, deletable, System.currentTimeMillis()), false)
        .onComplete(ar -> cleaning = false)
        .onSuccess(deleted -> {
          deleted.forEach(id -> {
            jobs.remove(id);
            // a retry may have started it again meanwhile: its files are gone, so it is gone
            running.remove(id);
            options.remove(id);
          });
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

  private void checkDrained() {
    if (drained != null && inFlight == 0 && committing.isEmpty()) {
      drained.tryComplete();
    }
  }

  /**
   * SIGTERM (or undeploy): starts nothing new, lets the images in flight finish within the
   * inference grace period, then saves every running job with its unfinished items {@code queued}:
   * their inputs are on disk and the next start runs them. Nothing is marked failed for stopping.
   */
  @Override
  public Future<?> stop() {
    stopping = true;
    pending.clear();
    drained = Promise.promise();
    long timer = vertx.setTimer(stopWaitMs, t -> drained.tryComplete());
    checkDrained();
    return drained.future().compose(v -> {
      vertx.cancelTimer(timer);
      List<Future<Void>> saves = new ArrayList<>();
      for (String id : List.copyOf(running)) {
        JsonObject job = jobs.get(id);
        int left = 0;
        for (Object o : job.getJsonArray("items")) {
          JsonObject item = (JsonObject) o;
          if (!TERMINAL.contains(item.getString("stage"))) {
            item.put("stage", "queued");
            left++;
          }
        }
        updateCounts(job);
        LOG.info("event=job_suspended job=" + id + " done=" + job.getInteger("done") + " failed="
            + job.getInteger("failed") + " left=" + left);
        saves.add(persist(job));
      }
      closed = true;
      return Future.join(saves).<Void>mapEmpty().recover(err -> Future.succeededFuture());
    });
  }
}
