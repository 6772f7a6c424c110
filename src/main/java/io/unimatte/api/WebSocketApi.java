package io.unimatte.api;

import io.unimatte.error.CodedException;
import io.unimatte.error.ErrorCode;
import io.unimatte.config.AppConfig;
import io.unimatte.inference.InferenceVerticle;
import io.unimatte.inference.ModelCatalog;
import io.unimatte.jobs.JobStore;
import io.unimatte.jobs.JobSubmission;
import io.unimatte.jobs.JobsVerticle;
import io.unimatte.jobs.Viewer;
import io.unimatte.imaging.output.OutputOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The WebSocket API at {@code /api/v1/ws} (JSON text frames, every message has a {@code type}):
 * clients submit images and get results on the same socket, or follow the progress of any job
 * of theirs (another client's job is {@code job_not_found}). Only events of jobs a socket
 * subscribed to are forwarded: the event bus itself is never exposed. See {@code docs/websocket.md}.
 *
 * <p>Memory: each received message holds its size of the {@link InFlightBudget} until it is handled
 * ({@code server_busy} when it does not fit); large ones are parsed and decoded on a worker thread.
 * Outgoing messages wait in a bounded queue of this socket while Vert.x's write queue is full, and
 * results are read from disk only when the socket can take them; meanwhile the socket reads nothing
 * more from the client. A client that lets {@value #MAX_WAITING_MESSAGES} messages pile up is
 * disconnected (1013).
 */
final class WebSocketApi {
  private static final Logger LOG = Logger.getLogger(WebSocketApi.class.getName());
  /** Messages up to this many characters are parsed on the event loop; larger ones on a worker. */
  private static final int INLINE_PARSE_CHARS = 64 * 1024;
  /** Outgoing messages that may wait for a slow reader (progress events are a few hundred bytes). */
  static final int MAX_WAITING_MESSAGES = 10_000;
  /** RFC 6455 close code "try again later": the client did not read its messages. */
  private static final short CLOSE_TRY_AGAIN_LATER = 1013;

  /** A result to read from disk and send once the socket can take it. */
  private record PendingResult(String jobId, JsonObject item) {
  }

  private final Vertx vertx;
  private final ImageInput input;
  private final ModelCatalog models;
  private final String client;
  /** Whose jobs this socket may follow; checked when the socket was opened. */
  private final Viewer viewer;
  private final ServerWebSocket ws;
  private final Path outputsDir;
  private final int maxItems;
  private final int maxSubscriptions;
  private final Set<String> subscribed = new HashSet<>();
  /** Jobs whose finished images are pushed back as {@code result} messages. */
  private final Set<String> wantsResults = new HashSet<>();
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();

  private final InFlightBudget budget;
  /** Encoded messages and results waiting for the socket, in order: a job's results before its job_done. */
  private final ArrayDeque<Object> waiting = new ArrayDeque<>();
  private boolean readingResult;
  private boolean paused;

  private WebSocketApi(Vertx vertx, ServerWebSocket ws, JsonObject config, ImageInput input, ModelCatalog models,
                       String client, Viewer viewer, InFlightBudget budget) {
    this.vertx = vertx;
    this.input = input;
    this.budget = budget;
    this.client = client;
    this.viewer = viewer;
    this.models = models;
    this.ws = ws;
    this.outputsDir = Path.of(AppConfig.requireString(config.getJsonObject("jobs"), "outputsDir"));
    this.maxItems = AppConfig.requireInt(config.getJsonObject("jobs"), "maxItemsPerJob");
    this.maxSubscriptions = AppConfig.requireInt(config.getJsonObject("websocket"), "maxSubscriptions");
  }

  static void accept(Vertx vertx, RoutingContext ctx, JsonObject config, ImageInput input, ModelCatalog models,
                     InFlightBudget budget) {
    if (!ctx.request().canUpgradeToWebSocket()) {
      ApiErrors.send(ctx, ErrorCode.INVALID_PARAMETER, "this endpoint speaks WebSocket only", 0);
      return;
    }
    JsonArray origins = config.getJsonObject("security").getJsonArray("corsAllowedOrigins", new JsonArray());
    if (!OriginCheck.allowed(ctx.request(), origins)) {
      LOG.info("event=ws_forbidden_origin client=" + AccessControl.clientId(ctx));
      ApiErrors.send(ctx, ErrorCode.FORBIDDEN_ORIGIN, "WebSocket connections from this page's origin are not allowed", 0);
      return;
    }
    String client = AccessControl.clientId(ctx);
    Viewer viewer = AccessControl.viewer(ctx);
    ctx.request().toWebSocket().onSuccess(ws -> new WebSocketApi(vertx, ws, config, input, models, client, viewer, budget)
        .start())
        .onFailure(err -> LOG.info("event=ws_upgrade_failed error=" + err.getMessage()));
  }

  private void start() {
    // consumer(): on a cluster the workers publish progress from other nodes
    consumers.add(vertx.eventBus().<JsonObject>consumer(InferenceVerticle.PROGRESS_ADDRESS, m -> {
      // job items are "queued" from the moment the job exists (the snapshot says so); the
      // pipeline's own "queued", sent when an item leaves the job's backlog, would repeat it
      if (subscribed.contains(m.body().getString("jobId")) && !"queued".equals(m.body().getString("stage"))) {
        send(m.body());
      }
    }));
    consumers.add(vertx.eventBus().<JsonObject>localConsumer(JobsVerticle.EVENTS, m -> onItem(m.body())));
    ws.textMessageHandler(this::onText);
    ws.binaryMessageHandler(b -> error(null, ErrorCode.INVALID_MESSAGE, "send JSON text messages; images go base64 in 'submit'"));
    ws.exceptionHandler(err -> LOG.fine("event=ws_error error=" + err.getMessage()));
    ws.closeHandler(v -> {
      consumers.forEach(MessageConsumer::unregister);
      waiting.clear();
    });
    send(new JsonObject().put("type", "hello").put("api", "unimatte-ws/1"));
  }

  private void send(JsonObject msg) {
    enqueue(msg.encode());
  }

  private void enqueue(Object entry) {
    if (ws.isClosed()) {
      return;
    }
    if (waiting.size() >= MAX_WAITING_MESSAGES) {
      LOG.info("event=ws_too_slow client=" + client + " waiting=" + waiting.size());
      waiting.clear();
      ws.close(CLOSE_TRY_AGAIN_LATER, "too slow: messages were not read");
      return;
    }
    waiting.addLast(entry);
    flush();
  }

  /**
   * Writes what waits while Vert.x's write queue has room; when it is full, stops reading from the
   * client and goes on when it drains. Results are read from disk one at a time, in their place.
   */
  private void flush() {
    while (!readingResult && !waiting.isEmpty()) {
      if (ws.isClosed()) {
        waiting.clear();
        return;
      }
      if (ws.writeQueueFull()) {
        if (!paused) {
          paused = true;
          ws.pause();
          LOG.fine("event=ws_paused client=" + client + " waiting=" + waiting.size());
        }
        ws.drainHandler(v -> flush());
        return;
      }
      Object next = waiting.pollFirst();
      if (next instanceof PendingResult r) {
        readingResult = true;
        readResult(r).onComplete(ar -> {
          readingResult = false;
          waiting.addFirst(ar.result());
          flush();
        });
        return;
      }
      ws.writeTextMessage((String) next);
    }
    if (paused && !ws.writeQueueFull()) {
      paused = false;
      ws.resume();
    }
  }

  /** The encoded {@code result} message of a finished item (base64 on a worker), or an error message. */
  private Future<String> readResult(PendingResult r) {
    JsonObject item = r.item();
    int index = item.getInteger("index");
    return vertx.fileSystem().readFile(JobsVerticle.resultPath(outputsDir, r.jobId(), item.getString("file")).toString())
        .compose(buf -> vertx.executeBlocking(() -> new JsonObject().put("type", "result").put("jobId", r.jobId())
            .put("index", index).put("name", item.getString("name")).put("contentType", item.getString("contentType"))
            .put("width", item.getInteger("width")).put("height", item.getInteger("height"))
            .put("cached", item.getBoolean("cached", false))
            .put("data", Base64.getEncoder().encodeToString(buf.getBytes())).encode(), false))
        .recover(err -> Future.succeededFuture(new JsonObject().put("type", "error")
            .put("code", ErrorCode.ITEM_NOT_FOUND.code()).put("message", "result of item " + index + " is gone").encode()));
  }

  private void error(String ref, ErrorCode code, String message) {
    JsonObject e = new JsonObject().put("type", "error").put("code", code.code()).put("message", message);
    if (ref != null) {
      e.put("ref", ref);
    }
    send(e);
  }

  /** A message holds its size of the budget until it is handled (a submit: until its job exists or failed). */
  private void onText(String text) {
    long bytes = text.length(); // base64 and JSON are ASCII: one byte per character
    if (bytes > budget.limit()) {
      error(null, ErrorCode.PAYLOAD_TOO_LARGE, "the message is larger than the " + budget.limit()
          + " bytes the server holds for all uploads at once");
      return;
    }
    if (!budget.tryAcquire(bytes)) {
      LOG.info("event=server_busy path=/api/v1/ws client=" + client + " bytes=" + bytes + " held=" + budget.held()
          + " budget=" + budget.limit());
      error(null, ErrorCode.SERVER_BUSY, "the server holds as many uploads as it may; send this message again later");
      return;
    }
    Future<JsonObject> parsed = text.length() <= INLINE_PARSE_CHARS ? Future.succeededFuture(parse(text))
        : vertx.executeBlocking(() -> parse(text), false);
    parsed.compose(this::dispatch).onComplete(ar -> budget.release(bytes));
  }

  /** The message as a JSON object; null when it is not one. */
  private static JsonObject parse(String text) {
    try {
      return new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      return null;
    }
  }

  private Future<Void> dispatch(JsonObject msg) {
    if (msg == null) {
      error(null, ErrorCode.INVALID_JSON, "messages must be JSON objects");
      return Future.succeededFuture();
    }
    String ref = msg.getValue("ref") == null ? null : String.valueOf(msg.getValue("ref"));
    switch (String.valueOf(msg.getString("type"))) {
      case "ping" -> send(new JsonObject().put("type", "pong").put("ref", ref));
      case "subscribe" -> subscribe(ref, msg.getString("jobId"), false);
      case "unsubscribe" -> {
        subscribed.remove(msg.getString("jobId"));
        wantsResults.remove(msg.getString("jobId"));
        send(new JsonObject().put("type", "unsubscribed").put("jobId", msg.getString("jobId")).put("ref", ref));
      }
      case "submit" -> {
        return submit(ref, msg);
      }
      case "retry" -> retry(ref, msg.getString("jobId"), msg.getBoolean("results", true));
      default -> error(ref, ErrorCode.UNKNOWN_TYPE, "unknown message type '" + msg.getString("type")
          + "' (use submit, retry, subscribe, unsubscribe, ping)");
    }
    return Future.succeededFuture();
  }

  private void subscribe(String ref, String jobId, boolean results) {
    if (!JobStore.isValidId(jobId)) {
      error(ref, ErrorCode.JOB_NOT_FOUND, "no job '" + jobId + "'");
      return;
    }
    if (subscribed.size() >= maxSubscriptions && !subscribed.contains(jobId)) {
      error(ref, ErrorCode.TOO_MANY_SUBSCRIPTIONS, "at most " + maxSubscriptions + " jobs per socket");
      return;
    }
    vertx.eventBus().<JsonObject>request(JobsVerticle.GET, byId(jobId)).onSuccess(m -> {
      if (m.body() == null) {
        error(ref, ErrorCode.JOB_NOT_FOUND, "no job '" + jobId + "'");
        return;
      }
      subscribed.add(jobId);
      if (results) {
        wantsResults.add(jobId);
      }
      send(new JsonObject().put("type", "subscribed").put("ref", ref).put("job", m.body()));
    });
  }

  /** Stores the images and creates the job; completes when either is done (the message holds its budget till then). */
  private Future<Void> submit(String ref, JsonObject msg) {
    OutputOptions output;
    String model;
    JsonArray list;
    Future<byte[]> background;
    try {
      java.util.Map<String, String> params = new java.util.HashMap<>();
      for (String k : new String[] {"output", "format", "bg", "crop", "crop_margin", "size", "quality", "refine",
          "colour", "color", "model", "roi", "scale", "position"}) {
        if (msg.getValue(k) != null) {
          params.put(k, String.valueOf(msg.getValue(k)));
        }
      }
      output = OutputOptions.parse(params);
      model = ModelsApi.resolve(params.get("model"), models);
      list = msg.getJsonArray("images");
      if (list == null || list.isEmpty()) {
        throw new CodedException(ErrorCode.MISSING_IMAGE, "'images' must be a non-empty array of {name, data (base64)}");
      }
      background = background(msg);
    } catch (CodedException e) {
      error(ref, e.error(), e.getMessage());
      return Future.succeededFuture();
    } catch (ClassCastException e) {
      error(ref, ErrorCode.INVALID_MESSAGE, "'images' must be an array of {name, data (base64)}");
      return Future.succeededFuture();
    }
    boolean results = msg.getBoolean("results", true);
    // each image is decoded and written to disk in turn: the job is acknowledged once all are stored
    return background.compose(bg -> JobsApi.submit(vertx, outputsDir, maxItems, inputs -> {
      for (int i = 0; i < list.size(); i++) {
        JsonObject img;
        byte[] data;
        try {
          img = list.getJsonObject(i);
          data = Base64.getDecoder().decode(img.getString("data", ""));
        } catch (ClassCastException e) {
          throw new CodedException(ErrorCode.INVALID_MESSAGE, "'images' must be an array of {name, data (base64)}");
        } catch (IllegalArgumentException e) {
          throw new CodedException(ErrorCode.INVALID_BASE64, "images[" + i + "].data is not valid base64");
        }
        inputs.add(JobsApi.safeName(img.getString("name"), i), data);
      }
    }, inputs -> new JobSubmission(inputs, output.withBackgroundImage(bg), false, "websocket", client, viewer.owner(),
        model)))
        .onSuccess(job -> {
          follow(job.getString("id"), results);
          send(new JsonObject().put("type", "accepted").put("ref", ref).put("job", job));
        })
        .onFailure(err -> failed(ref, err))
        .<Void>mapEmpty()
        .recover(err -> Future.succeededFuture());
  }

  /** {@code retry}: queues the job's retryable failed items again and follows the job on this socket. */
  private void retry(String ref, String jobId, boolean results) {
    if (!JobStore.isValidId(jobId)) {
      error(ref, ErrorCode.JOB_NOT_FOUND, "no job '" + jobId + "'");
      return;
    }
    if (subscribed.size() >= maxSubscriptions && !subscribed.contains(jobId)) {
      error(ref, ErrorCode.TOO_MANY_SUBSCRIPTIONS, "at most " + maxSubscriptions + " jobs per socket");
      return;
    }
    if (!subscribed.contains(jobId)) {
      // checked before subscribing: not one event of another client's job may reach this socket
      vertx.eventBus().<JsonObject>request(JobsVerticle.GET, byId(jobId)).onSuccess(m -> {
        if (m.body() == null) {
          error(ref, ErrorCode.JOB_NOT_FOUND, "no job '" + jobId + "'");
        } else {
          retryOwn(ref, jobId, results);
        }
      }).onFailure(err -> failed(ref, err));
      return;
    }
    retryOwn(ref, jobId, results);
  }

  /** {@code retry} of a job this socket may see. */
  private void retryOwn(String ref, String jobId, boolean results) {
    // subscribed before asking, so no event of the retried items can slip past
    boolean wasSubscribed = !subscribed.add(jobId);
    vertx.eventBus().<JsonObject>request(JobsVerticle.RETRY, byId(jobId))
        .onSuccess(m -> {
          follow(jobId, results);
          send(new JsonObject().put("type", "retried").put("ref", ref).put("retried", m.body().getInteger("retried"))
              .put("job", m.body()));
        })
        .onFailure(err -> {
          if (!wasSubscribed) {
            subscribed.remove(jobId);
          }
          failed(ref, err);
        });
  }

  /** A message naming job {@code jobId}, with this socket's viewer. */
  private JsonObject byId(String jobId) {
    return viewer.addTo(new JsonObject().put("id", jobId));
  }

  private void follow(String jobId, boolean results) {
    subscribed.add(jobId);
    if (results) {
      wantsResults.add(jobId);
    }
  }

  private void failed(String ref, Throwable err) {
    if (err instanceof CodedException ce) {
      error(ref, ce.error(), ce.getMessage());
    } else {
      ErrorCode code = ErrorCode.orInternal(err instanceof ReplyException re ? re.getMessage() : null);
      error(ref, code, code.defaultMessage());
    }
  }

  /** {@code bg_image} (base64) or {@code bg_image_url} (fetched through the SSRF guard); null when neither. */
  private Future<byte[]> background(JsonObject msg) {
    String b64 = msg.getValue("bg_image") == null ? null : String.valueOf(msg.getValue("bg_image"));
    String url = msg.getValue("bg_image_url") == null ? null : String.valueOf(msg.getValue("bg_image_url"));
    if (b64 != null && url != null) {
      throw new CodedException(ErrorCode.INVALID_PARAMETER, "give bg_image or bg_image_url, not both");
    }
    if (url != null) {
      return input.fetch(url, "bg_image_url");
    }
    if (b64 == null) {
      return Future.succeededFuture();
    }
    try {
      return Future.succeededFuture(Base64.getDecoder().decode(b64));
    } catch (IllegalArgumentException e) {
      throw new CodedException(ErrorCode.INVALID_BASE64, "bg_image is not valid base64");
    }
  }

  private void onItem(JsonObject event) {
    String jobId = event.getString("jobId");
    if (!subscribed.contains(jobId)) {
      return;
    }
    send(event);
    if (!"item".equals(event.getString("type"))) {
      return; // requeued: the items' own events follow
    }
    JsonObject item = event.getJsonObject("item");
    if (wantsResults.contains(jobId) && "done".equals(item.getString("stage"))) {
      enqueue(new PendingResult(jobId, item));
    }
    // job_done goes after the job's last result (the queue keeps the order), so a client may stop reading then
    if (event.getInteger("done") + event.getInteger("failed") == event.getInteger("total")) {
      send(new JsonObject().put("type", "job_done").put("jobId", jobId)
          .put("status", event.getString("status")).put("done", event.getInteger("done"))
          .put("failed", event.getInteger("failed")).put("retryable", event.getInteger("retryable")));
    }
  }
}
