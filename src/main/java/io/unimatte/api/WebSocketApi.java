package io.unimatte.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
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
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.JacksonCodec;
import io.vertx.ext.web.RoutingContext;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
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
 *
 * <p>Longer than most files: one socket's whole protocol (assembly of frames, budget, typed field checks,
 * the bounded send queue, subscriptions, submit, retry, cancel, binary results) over one socket's state;
 * the message types could move into their own handlers when the protocol grows again.
 */
final class WebSocketApi {
  private static final Logger LOG = Logger.getLogger(WebSocketApi.class.getName());
  /** The protocol version {@code hello} announces. */
  static final String API_VERSION = "unimatte-ws/1.1";
  /**
   * Parser without Jackson's default 20-million-character string cap: a message is already bounded by
   * {@code websocket.maxMessageBytes}, and a base64 image under that limit must parse.
   */
  private static final JsonFactory JSON = JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE).build()).build();
  /** Output options {@code submit} takes, as the HTTP API's query parameters. */
  private static final List<String> OPTIONS = List.of("output", "format", "bg", "crop", "crop_margin", "size",
      "quality", "refine", "colour", "color", "model", "roi", "scale", "position");
  /** Bytes before a binary result's image: the job id (16) and the item index (4). */
  static final int BINARY_HEADER_BYTES = 20;
  /** Longest close reason a close frame can carry (RFC 6455: 125 bytes of payload, 2 for the code). */
  private static final int MAX_CLOSE_REASON = 123;
  /** Messages up to this many characters are parsed on the event loop; larger ones on a worker. */
  private static final int INLINE_PARSE_CHARS = 64 * 1024;
  /** Outgoing messages that may wait for a slow reader (progress events are a few hundred bytes). */
  static final int MAX_WAITING_MESSAGES = 10_000;
  /** RFC 6455 close code "try again later": the client did not read its messages. */
  private static final short CLOSE_TRY_AGAIN_LATER = 1013;

  /** A result to read from disk and send once the socket can take it (base64 in JSON, or a binary frame). */
  private record PendingResult(String jobId, JsonObject item, boolean binary) {
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
  private final int maxMessageBytes;
  private final Set<String> subscribed = new HashSet<>();
  /** Jobs whose finished images are pushed back as {@code result} messages. */
  private final Set<String> wantsResults = new HashSet<>();
  /** Jobs whose results go as a JSON header and a binary frame instead of base64. */
  private final Set<String> binaryResults = new HashSet<>();
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  private final InFlightBudget budget;
  /** Encoded messages (String), binary frames (Buffer) and results waiting for the socket, in order. */
  private final ArrayDeque<Object> waiting = new ArrayDeque<>();
  /** The result being read from disk, and whether its job was dropped meanwhile (deleted, unsubscribed). */
  private PendingResult reading;
  private boolean readingDropped;
  private boolean paused;
  /** The message being received, frame by frame; null between messages and while skipping one. */
  private Buffer assembling;
  private boolean assemblingBinary;
  /** Bytes of the current message so far, and whether it went over the limit (its other frames are dropped). */
  private long received;
  private boolean skipping;

  /** A field of the wrong type or value: {@code invalid_parameter}, with the field named in the message and {@code field}. */
  private static final class FieldError extends CodedException {
    private final String field;

    FieldError(String field, String expected) {
      super(ErrorCode.INVALID_PARAMETER, "'" + field + "' must be " + expected);
      this.field = field;
    }
  }

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
    this.maxMessageBytes = AppConfig.requireInt(config.getJsonObject("websocket"), "maxMessageBytes");
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
    // frames, not Vert.x's message handlers: those drop a message over the limit without a word
    ws.frameHandler(this::onFrame);
    ws.exceptionHandler(this::onException);
    ws.closeHandler(v -> {
      consumers.forEach(MessageConsumer::unregister);
      waiting.clear();
    });
    send(new JsonObject().put("type", "hello").put("api", API_VERSION).put("maxMessageBytes", maxMessageBytes)
        .put("maxSubscriptions", maxSubscriptions));
  }

  /**
   * Joins a message's frames up to {@code websocket.maxMessageBytes} (counted after decompression).
   * Past it the message is answered {@code message_too_large} once and its remaining frames dropped;
   * the socket stays open.
   */
  private void onFrame(WebSocketFrame frame) {
    if (frame.isText() || frame.isBinary()) {
      assembling = Buffer.buffer();
      assemblingBinary = frame.isBinary();
      received = 0;
      skipping = false;
    } else if (!frame.isContinuation() || assembling == null && !skipping) {
      return; // ping, pong and close are Vert.x's; a stray continuation has no message to join
    }
    if (!skipping) {
      received += frame.binaryData().length();
      if (received > maxMessageBytes) {
        skipping = true;
        assembling = null;
        tooLarge(null);
      } else {
        assembling.appendBuffer(frame.binaryData());
      }
    }
    if (frame.isFinal()) {
      Buffer message = assembling;
      assembling = null;
      skipping = false;
      if (message != null && assemblingBinary) {
        error(null, ErrorCode.INVALID_MESSAGE, "send JSON text messages; images go base64 in 'submit'");
      } else if (message != null) {
        onText(message.toString(StandardCharsets.UTF_8));
      }
    }
  }

  private void tooLarge(String ref) {
    JsonObject e = errorMessage(ref, ErrorCode.MESSAGE_TOO_LARGE, "messages may be at most " + maxMessageBytes
        + " bytes (websocket.maxMessageBytes); send fewer or smaller images per submit");
    send(e.put("limit", maxMessageBytes));
  }

  /**
   * A single frame over the limit is refused by the frame decoder before it reaches {@link #onFrame}, and
   * the connection is then closed: it closes with 1009 and a reason, not without a word.
   */
  private void onException(Throwable err) {
    if (err instanceof CorruptedWebSocketFrameException c && c.closeStatus() != null
        && c.closeStatus().code() == WebSocketCloseStatus.MESSAGE_TOO_BIG.code() && !ws.isClosed()) {
      String reason = "message_too_large: at most " + maxMessageBytes + " bytes per message";
      LOG.info("event=ws_message_too_large client=" + client + " limit=" + maxMessageBytes);
      ws.close((short) WebSocketCloseStatus.MESSAGE_TOO_BIG.code(),
          reason.length() > MAX_CLOSE_REASON ? reason.substring(0, MAX_CLOSE_REASON) : reason);
      return;
    }
    LOG.fine("event=ws_error error=" + err.getMessage());
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
    while (reading == null && !waiting.isEmpty()) {
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
        reading = r;
        readingDropped = false;
        readResult(r).onComplete(ar -> {
          reading = null;
          if (!readingDropped) {
            List<Object> out = ar.result();
            for (int k = out.size() - 1; k >= 0; k--) {
              waiting.addFirst(out.get(k));
            }
          }
          flush();
        });
        return;
      }
      if (next instanceof Buffer b) {
        ws.writeBinaryMessage(b);
      } else {
        ws.writeTextMessage((String) next);
      }
    }
    if (paused && !ws.writeQueueFull()) {
      paused = false;
      ws.resume();
    }
  }

  /**
   * A finished item's result, read from disk: one JSON message with the image in base64, or a JSON header
   * ({@code "frame":"binary"}) followed by one binary message: job id (16 bytes, the UUID's two longs
   * big-endian), item index (4 bytes, big-endian), then the image file's bytes. An error message when the
   * result is gone.
   */
  private Future<List<Object>> readResult(PendingResult r) {
    JsonObject item = r.item();
    String jobId = r.jobId();
    int index = item.getInteger("index");
    return vertx.fileSystem().readFile(JobsVerticle.resultPath(outputsDir, jobId, item.getString("file")).toString())
        .compose(image -> vertx.executeBlocking(() -> {
          JsonObject header = new JsonObject().put("type", "result").put("jobId", jobId).put("index", index)
              .put("name", item.getString("name")).put("contentType", item.getString("contentType"))
              .put("width", item.getInteger("width")).put("height", item.getInteger("height"))
              .put("cached", item.getBoolean("cached", false)).put("confidence", item.getDouble("confidence"))
              .put("review", item.getBoolean("review", false));
          if (!r.binary()) {
            return List.<Object>of(header.put("data", Base64.getEncoder().encodeToString(image.getBytes())).encode());
          }
          UUID id = UUID.fromString(jobId);
          ByteBuffer head = ByteBuffer.allocate(BINARY_HEADER_BYTES).putLong(id.getMostSignificantBits())
              .putLong(id.getLeastSignificantBits()).putInt(index);
          return List.<Object>of(header.put("frame", "binary").put("bytes", image.length()).encode(),
              Buffer.buffer(head.array()).appendBuffer(image));
        }, false))
        .recover(err -> Future.succeededFuture(List.of(errorMessage(null, ErrorCode.ITEM_NOT_FOUND,
            "result of item " + index + " is gone").encode())));
  }

  /** Drops the results of a job still waiting to be sent (deleted or unsubscribed). */
  private void discardResults(String jobId) {
    waiting.removeIf(e -> e instanceof PendingResult r && r.jobId().equals(jobId));
    if (reading != null && reading.jobId().equals(jobId)) {
      readingDropped = true;
    }
  }

  private static JsonObject errorMessage(String ref, ErrorCode code, String message) {
    JsonObject e = new JsonObject().put("type", "error").put("code", code.code()).put("message", message);
    if (ref != null) {
      e.put("ref", ref);
    }
    return e;
  }

  private void error(String ref, ErrorCode code, String message) {
    send(errorMessage(ref, code, message));
  }

  /** The message as a JSON object; null when it is not one. */
  @SuppressWarnings("unchecked")
  private static JsonObject parse(String text) {
    try {
      return new JsonObject(JacksonCodec.fromParser(JSON.createParser(text), java.util.Map.class));
    } catch (IOException | DecodeException | ClassCastException e) {
      return null;
    }
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

  private Future<Void> dispatch(JsonObject msg) {
    if (msg == null) {
      error(null, ErrorCode.INVALID_JSON, "messages must be JSON objects");
      return Future.succeededFuture();
    }
    String ref = msg.getValue("ref") == null ? null : String.valueOf(msg.getValue("ref"));
    try {
      String type = string(msg, "type");
      switch (String.valueOf(type)) {
        case "ping" -> send(new JsonObject().put("type", "pong").put("ref", ref));
        case "subscribe" -> subscribe(ref, jobId(msg), false);
        case "unsubscribe" -> {
          String jobId = jobId(msg);
          discardResults(jobId);
          release(jobId);
          send(new JsonObject().put("type", "unsubscribed").put("jobId", jobId).put("ref", ref));
        }
        case "submit" -> {
          return submit(ref, msg);
        }
        case "retry" -> retry(ref, jobId(msg), bool(msg, "results", true), binaryFrames(msg));
        case "cancel" -> cancel(ref, jobId(msg));
        default -> error(ref, ErrorCode.UNKNOWN_TYPE, "unknown message type '" + type
            + "' (use submit, retry, cancel, subscribe, unsubscribe, ping)");
      }
    } catch (CodedException e) {
      failed(ref, e);
    }
    return Future.succeededFuture();
  }

  // ---- typed fields: a wrong type is answered, never a silent ClassCastException ----------------

  private static String string(JsonObject msg, String field) {
    Object v = msg.getValue(field);
    if (v == null || v instanceof String) {
      return (String) v;
    }
    throw new FieldError(field, "a string");
  }

  private static String jobId(JsonObject msg) {
    return string(msg, "jobId");
  }

  private static boolean bool(JsonObject msg, String field, boolean fallback) {
    Object v = msg.getValue(field);
    if (v == null) {
      return fallback;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    throw new FieldError(field, "true or false");
  }

  /** {@code resultFrames}: {@code "json"} (default, base64 in the message) or {@code "binary"}. */
  private static boolean binaryFrames(JsonObject msg) {
    String v = msg.getValue("resultFrames") instanceof String s ? s : null;
    if (msg.getValue("resultFrames") == null || "json".equals(v)) {
      return false;
    }
    if ("binary".equals(v)) {
      return true;
    }
    throw new FieldError("resultFrames", "\"json\" or \"binary\"");
  }

  private void subscribe(String ref, String jobId, boolean results) {
    if (!JobStore.isValidId(jobId)) {
      error(ref, ErrorCode.JOB_NOT_FOUND, "no job '" + jobId + "'");
      return;
    }
    if (subscribed.size() >= maxSubscriptions && !subscribed.contains(jobId)) {
      error(ref, ErrorCode.TOO_MANY_SUBSCRIPTIONS, "at most " + maxSubscriptions + " unfinished jobs per socket");
      return;
    }
    vertx.eventBus().<JsonObject>request(JobsVerticle.GET, byId(jobId)).onSuccess(m -> {
      JsonObject job = m.body();
      if (job == null) {
        error(ref, ErrorCode.JOB_NOT_FOUND, "no job '" + jobId + "'");
        return;
      }
      send(new JsonObject().put("type", "subscribed").put("ref", ref).put("job", job));
      if (job.getInteger("done", 0) + job.getInteger("failed", 0) == job.getJsonArray("items").size()) {
        // nothing more will happen to it: its final state, and no subscription to hold
        send(jobDone(jobId, job));
        return;
      }
      subscribed.add(jobId);
      if (results) {
        wantsResults.add(jobId);
      }
    });
  }

  private static JsonObject jobDone(String jobId, JsonObject counts) {
    return new JsonObject().put("type", "job_done").put("jobId", jobId)
        .put("status", counts.getString("status")).put("done", counts.getInteger("done"))
        .put("failed", counts.getInteger("failed")).put("retryable", counts.getInteger("retryable"))
        .put("flagged", counts.getInteger("flagged", 0));
  }

  /** Stores the images and creates the job; completes when either is done (the message holds its budget till then). */
  private Future<Void> submit(String ref, JsonObject msg) {
    OutputOptions output;
    String model;
    JsonArray list;
    boolean results;
    boolean binary;
    Future<byte[]> background;
    try {
      java.util.Map<String, String> params = new java.util.HashMap<>();
      for (String k : OPTIONS) {
        Object v = msg.getValue(k);
        if (v != null && !(v instanceof String || v instanceof Number || v instanceof Boolean)) {
          throw new FieldError(k, "a string, number or boolean");
        }
        if (v != null) {
          params.put(k, String.valueOf(v));
        }
      }
      results = bool(msg, "results", true);
      binary = binaryFrames(msg);
      if (msg.getValue("images") != null && !(msg.getValue("images") instanceof JsonArray)) {
        throw new FieldError("images", "an array of {name, data (base64)}");
      }
      list = msg.getJsonArray("images");
      if (list == null || list.isEmpty()) {
        throw new CodedException(ErrorCode.MISSING_IMAGE, "'images' must be a non-empty array of {name, data (base64)}");
      }
      for (int i = 0; i < list.size(); i++) {
        if (!(list.getValue(i) instanceof JsonObject img)) {
          throw new FieldError("images[" + i + "]", "an object {name, data (base64)}");
        }
        if (img.getValue("name") != null && !(img.getValue("name") instanceof String)) {
          throw new FieldError("images[" + i + "].name", "a string");
        }
        if (!(img.getValue("data") instanceof String)) {
          throw new FieldError("images[" + i + "].data", "a base64 string");
        }
      }
      output = OutputOptions.parse(params);
      model = ModelsApi.resolve(params.get("model"), models);
      background = background(msg);
    } catch (CodedException e) {
      failed(ref, e);
      return Future.succeededFuture();
    }
    // each image is decoded and written to disk in turn: the job is acknowledged once all are stored
    return background.compose(bg -> JobsApi.submit(vertx, outputsDir, maxItems, inputs -> {
      for (int i = 0; i < list.size(); i++) {
        JsonObject img = list.getJsonObject(i);
        byte[] data;
        try {
          data = Base64.getDecoder().decode(img.getString("data"));
        } catch (IllegalArgumentException e) {
          throw new CodedException(ErrorCode.INVALID_BASE64, "images[" + i + "].data is not valid base64");
        }
        inputs.add(JobsApi.safeName(img.getString("name"), i), data);
      }
    }, inputs -> new JobSubmission(inputs, output.withBackgroundImage(bg), false, "websocket", client, viewer.owner(),
        model)))
        .onSuccess(job -> {
          follow(job.getString("id"), results, binary);
          send(new JsonObject().put("type", "accepted").put("ref", ref).put("job", job));
        })
        .onFailure(err -> failed(ref, err))
        .<Void>mapEmpty()
        .recover(err -> Future.succeededFuture());
  }

  /** {@code retry}: queues the job's retryable failed items again and follows the job on this socket. */
  private void retry(String ref, String jobId, boolean results, boolean binary) {
    if (!JobStore.isValidId(jobId)) {
      error(ref, ErrorCode.JOB_NOT_FOUND, "no job '" + jobId + "'");
      return;
    }
    if (subscribed.size() >= maxSubscriptions && !subscribed.contains(jobId)) {
      error(ref, ErrorCode.TOO_MANY_SUBSCRIPTIONS, "at most " + maxSubscriptions + " unfinished jobs per socket");
      return;
    }
    if (!subscribed.contains(jobId)) {
      // checked before subscribing: not one event of another client's job may reach this socket
      vertx.eventBus().<JsonObject>request(JobsVerticle.GET, byId(jobId)).onSuccess(m -> {
        if (m.body() == null) {
          error(ref, ErrorCode.JOB_NOT_FOUND, "no job '" + jobId + "'");
        } else {
          retryOwn(ref, jobId, results, binary);
        }
      }).onFailure(err -> failed(ref, err));
      return;
    }
    retryOwn(ref, jobId, results, binary);
  }

  /** {@code retry} of a job this socket may see. */
  private void retryOwn(String ref, String jobId, boolean results, boolean binary) {
    // subscribed before asking, so no event of the retried items can slip past
    boolean wasSubscribed = !subscribed.add(jobId);
    vertx.eventBus().<JsonObject>request(JobsVerticle.RETRY, byId(jobId))
        .onSuccess(m -> {
          follow(jobId, results, binary);
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

  /** {@code cancel}: stops the job's unfinished images (they fail with {@code cancelled}); finished ones stay. */
  private void cancel(String ref, String jobId) {
    if (!JobStore.isValidId(jobId)) {
      error(ref, ErrorCode.JOB_NOT_FOUND, "no job '" + jobId + "'");
      return;
    }
    vertx.eventBus().<JsonObject>request(JobsVerticle.CANCEL, byId(jobId))
        .onSuccess(m -> send(new JsonObject().put("type", "cancelled").put("ref", ref).put("jobId", jobId)
            .put("cancelled", m.body().getInteger("cancelled")).put("job", m.body())))
        .onFailure(err -> failed(ref, err));
  }

  /** A message naming job {@code jobId}, with this socket's viewer. */
  private JsonObject byId(String jobId) {
    return viewer.addTo(new JsonObject().put("id", jobId));
  }

  private void follow(String jobId, boolean results, boolean binary) {
    subscribed.add(jobId);
    if (results) {
      wantsResults.add(jobId);
    }
    if (binary) {
      binaryResults.add(jobId);
    } else {
      binaryResults.remove(jobId);
    }
  }

  /** Forgets a job on this socket: it no longer counts against {@code websocket.maxSubscriptions}. */
  private void release(String jobId) {
    subscribed.remove(jobId);
    wantsResults.remove(jobId);
    binaryResults.remove(jobId);
  }

  private void failed(String ref, Throwable err) {
    if (err instanceof CodedException ce) {
      JsonObject e = errorMessage(ref, ce.error(), ce.getMessage());
      if (ce instanceof FieldError fe) {
        e.put("field", fe.field);
      }
      if (ce.retryAfterSecs() > 0) {
        e.put("retryAfter", ce.retryAfterSecs());
      }
      send(e);
    } else {
      ErrorCode code = ErrorCode.orInternal(err instanceof ReplyException re ? re.getMessage() : null);
      JsonObject e = errorMessage(ref, code, code.defaultMessage());
      if (err instanceof JobsVerticle.Refusal r) {
        e.put("retryAfter", r.retryAfterSecs());
      }
      send(e);
    }
  }

  private void onItem(JsonObject event) {
    String jobId = event.getString("jobId");
    if (!subscribed.contains(jobId)) {
      return;
    }
    if ("deleted".equals(event.getString("type"))) {
      discardResults(jobId);
      release(jobId);
      send(new JsonObject().put("type", "job_deleted").put("jobId", jobId));
      return;
    }
    send(event);
    if (!"item".equals(event.getString("type"))) {
      return; // requeued: the items' own events follow
    }
    JsonObject item = event.getJsonObject("item");
    if (wantsResults.contains(jobId) && "done".equals(item.getString("stage"))) {
      enqueue(new PendingResult(jobId, item, binaryResults.contains(jobId)));
    }
    // job_done goes after the job's last result (the queue keeps the order), so a client may stop
    // reading when it sees it; the job is then released
    if (event.getInteger("done") + event.getInteger("failed") == event.getInteger("total")) {
      send(jobDone(jobId, event));
      release(jobId);
    }
  }

  /** {@code bg_image} (base64) or {@code bg_image_url} (fetched through the SSRF guard); null when neither. */
  private Future<byte[]> background(JsonObject msg) {
    String b64 = string(msg, "bg_image");
    String url = string(msg, "bg_image_url");
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
}
