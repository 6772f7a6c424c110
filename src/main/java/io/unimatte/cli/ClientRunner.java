package io.unimatte.cli;

import io.unimatte.error.CodedException;
import io.unimatte.error.ErrorCode;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * Client mode: the images go to a Unimatte server as batch jobs ({@code POST /api/v1/jobs}, a
 * bounded number of images and bytes per job), their progress is followed over the WebSocket
 * ({@code subscribe}), and each finished item is downloaded ({@code GET /api/v1/jobs/{id}/items/{n}})
 * into the mirrored tree. Items are matched by their index in the job, so file names never need to
 * survive the trip. A job whose events stop coming (or a socket that closes) is polled instead.
 * Finished jobs are deleted from the server unless {@code --keep-jobs}.
 *
 * <p>Longer than most files on purpose: client mode is a small remote-job client (upload in chunks,
 * follow over the WebSocket with a polling fallback, download, clean up) kept in one place.
 */
final class ClientRunner implements Runner {
  private static final Logger LOG = Logger.getLogger(ClientRunner.class.getName());
  /** Jobs of this run on the server at once: one runs while the next one uploads (servers allow 4 per client). */
  private static final int MAX_JOBS_IN_FLIGHT = 2;
  /** Bytes of images in one upload: under the default {@code server.maxRequestBytes} (50 MiB) with room for headers. */
  static final long MAX_UPLOAD_BYTES = 40L << 20;
  /** Parallel downloads of finished items. */
  private static final int DOWNLOAD_THREADS = 4;
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(5);
  private static final long WS_OPEN_TIMEOUT_SECONDS = 10;
  private static final long POLL_TICK_MS = 2_000;
  /** A job that has said nothing over the socket for this long is asked for its state. */
  private static final long IDLE_POLL_MS = 10_000;
  /** Failed polls in a row after which a job's remaining items fail with {@code connection_failed}. */
  private static final int MAX_POLL_FAILURES = 15;
  /** Wait before resubmitting a job refused with 429 and no Retry-After. */
  private static final long DEFAULT_RETRY_AFTER_SECONDS = 2;
  private static final long WAIT_STEP_MS = 200;
  private static final String WS_PATH = "api/v1/ws";

  private final URI base;
  private final String apiKey;
  private final Map<String, String> query;
  private final String model;
  private final int jobSize;
  private final boolean keepJobs;
  private final Report report;
  private final HttpClient http;
  private final Map<String, Tracker> trackers = new ConcurrentHashMap<>();
  private final AtomicInteger cancelledItems = new AtomicInteger();
  private ExecutorService downloads;
  private ScheduledExecutorService poller;
  private volatile WebSocket ws;
  private volatile boolean wsUp;
  private CompletableFuture<WebSocket> sending;

  /**
   * @param server  the server's base URL, e.g. {@code http://gpu-box:8080}
   * @param query   the output options as the API's query parameters (and {@code model} when chosen)
   * @param jobSize images per job at most
   */
  ClientRunner(URI server, String apiKey, Map<String, String> query, int jobSize, boolean keepJobs, Report report) {
    String s = server.toString();
    this.base = URI.create(s.endsWith("/") ? s : s + "/");
    this.apiKey = apiKey == null || apiKey.isBlank() ? null : apiKey;
    this.query = query;
    this.model = query.get("model");
    this.jobSize = jobSize;
    this.keepJobs = keepJobs;
    this.report = report;
    // HTTP/1.1: no h2c upgrade attempts on every request (servers and proxies that ignore it gain nothing)
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(CONNECT_TIMEOUT).build();
  }

  @Override
  public void start() throws StartException {
    JsonObject models;
    try {
      HttpResponse<byte[]> r = http.send(request("api/v1/models").GET().build(), HttpResponse.BodyHandlers.ofByteArray());
      if (r.statusCode() != 200) {
        ApiError e = ApiError.of(r);
        throw new StartException(base + " answered " + r.statusCode() + " " + e.code() + ": " + e.message()
            + (r.statusCode() == 401 ? " (pass --api-key or set UNIMATTE_API_KEY)" : ""), null);
      }
      models = new JsonObject(new String(r.body(), StandardCharsets.UTF_8));
    } catch (IOException | DecodeException e) {
      throw new StartException("cannot reach the server " + base + ": " + describe(e), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StartException("interrupted", e);
    }
    String wanted = model != null ? model : models.getString("default");
    JsonObject entry = models.getJsonArray("models", new JsonArray()).stream()
        .filter(o -> o instanceof JsonObject j && wanted.equals(j.getString("name")))
        .map(o -> (JsonObject) o).findFirst().orElse(null);
    if (entry == null) {
      throw new StartException("the server does not serve model '" + wanted + "'; it serves "
          + models.getJsonArray("models", new JsonArray()).stream().map(o -> ((JsonObject) o).getString("name"))
          .collect(Collectors.joining(", ")), null);
    }
    if ("failed".equals(entry.getString("status"))) {
      throw new StartException("model '" + wanted + "' failed to load on the server: " + entry.getString("error"), null);
    }
    downloads = Executors.newFixedThreadPool(DOWNLOAD_THREADS, daemon("unimatte-cli-download"));
    poller = Executors.newSingleThreadScheduledExecutor(daemon("unimatte-cli-poll"));
    openSocket();
    poller.scheduleWithFixedDelay(this::pollQuietJobs, POLL_TICK_MS, POLL_TICK_MS, TimeUnit.MILLISECONDS);
  }

  private void openSocket() {
    URI wsUri = URI.create(base.resolve(WS_PATH).toString().replaceFirst("^http", "ws"));
    WebSocket.Builder b = http.newWebSocketBuilder().connectTimeout(CONNECT_TIMEOUT);
    if (apiKey != null) {
      b.header("X-Api-Key", apiKey);
    }
    try {
      ws = b.buildAsync(wsUri, new Listener()).get(WS_OPEN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      sending = CompletableFuture.completedFuture(ws);
      wsUp = true;
      LOG.info("event=ws_open uri=" + wsUri);
    } catch (Exception e) {
      // the jobs API alone still works: follow the jobs by polling
      report.notice("no WebSocket at " + wsUri + " (" + describe(e) + "): following the jobs by polling");
    }
  }

  @Override
  public int run(List<InputSet.Item> items, Report report, StopSignal stop) throws InterruptedException {
    Semaphore slots = new Semaphore(MAX_JOBS_IN_FLIGHT);
    int next = 0;
    int notSubmitted = 0;
    while (next < items.size()) {
      if (!acquire(slots, 1, stop)) {
        notSubmitted = items.size() - next;
        break;
      }
      List<InputSet.Item> chunk = new ArrayList<>();
      List<byte[]> data = new ArrayList<>();
      long bytes = 0;
      while (next < items.size() && chunk.size() < jobSize) {
        InputSet.Item item = items.get(next);
        byte[] d;
        try {
          d = item.read(MAX_UPLOAD_BYTES);
        } catch (CodedException e) {
          next++;
          report.failed(item.name(), e.code(), e.getMessage(), null);
          continue;
        } catch (IOException e) {
          next++;
          report.failed(item.name(), Report.READ_FAILED, e.getMessage(), null);
          continue;
        }
        if (!chunk.isEmpty() && bytes + d.length > MAX_UPLOAD_BYTES) {
          break; // read again for the next job: cheaper than holding it
        }
        next++;
        chunk.add(item);
        data.add(d);
        bytes += d.length;
      }
      if (chunk.isEmpty()) {
        slots.release();
        continue;
      }
      if (!submit(chunk, data, slots, stop)) {
        slots.release();
      }
    }
    // wait for the jobs still running; on Ctrl-C cancel them (their finished items still come down)
    while (!slots.tryAcquire(MAX_JOBS_IN_FLIGHT, WAIT_STEP_MS, TimeUnit.MILLISECONDS)) {
      if (stop.requested()) {
        trackers.values().forEach(Tracker::cancel);
      }
    }
    slots.release(MAX_JOBS_IN_FLIGHT);
    return notSubmitted + cancelledItems.get();
  }

  /** Takes {@code n} permits, giving up when a stop is asked for. */
  private static boolean acquire(Semaphore s, int n, StopSignal stop) throws InterruptedException {
    while (!s.tryAcquire(n, WAIT_STEP_MS, TimeUnit.MILLISECONDS)) {
      if (stop.requested()) {
        return false;
      }
    }
    if (stop.requested()) {
      s.release(n);
      return false;
    }
    return true;
  }

  /**
   * Creates one job for the chunk and follows it; its slot is released when every item is reported.
   *
   * @return false when no job was created (the items are then reported failed)
   */
  private boolean submit(List<InputSet.Item> chunk, List<byte[]> data, Semaphore slots, StopSignal stop)
      throws InterruptedException {
    String boundary = "unimatte-cli-" + Long.toHexString(System.nanoTime());
    byte[] body = multipart(boundary, chunk, data);
    data.clear();
    while (true) {
      HttpResponse<byte[]> r;
      try {
        r = http.send(request("api/v1/jobs" + queryString())
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
            HttpResponse.BodyHandlers.ofByteArray());
      } catch (IOException e) {
        failAll(chunk, Report.CONNECTION_FAILED, describe(e));
        return false;
      }
      if (r.statusCode() == 202) {
        JsonObject job = new JsonObject(new String(r.body(), StandardCharsets.UTF_8));
        Tracker t = new Tracker(job.getString("id"), chunk, slots);
        trackers.put(t.jobId, t);
        LOG.info("event=job_submitted job=" + t.jobId + " items=" + chunk.size() + " bytes=" + body.length);
        if (wsUp) {
          send(new JsonObject().put("type", "subscribe").put("jobId", t.jobId).put("ref", t.jobId));
        } else {
          t.poll();
        }
        return true;
      }
      if (r.statusCode() == 429 && !stop.requested()) {
        // too_many_jobs / rate_limited: the server asks to come back later
        long wait = r.headers().firstValueAsLong("Retry-After").orElse(DEFAULT_RETRY_AFTER_SECONDS);
        LOG.info("event=job_retry status=429 waitS=" + wait);
        Thread.sleep(TimeUnit.SECONDS.toMillis(Math.max(1, wait)));
        continue;
      }
      ApiError e = ApiError.of(r);
      failAll(chunk, e.code(), e.message());
      return false;
    }
  }

  private void failAll(List<InputSet.Item> chunk, String code, String message) {
    chunk.forEach(i -> report.failed(i.name(), code, message, null));
  }

  private static byte[] multipart(String boundary, List<InputSet.Item> chunk, List<byte[]> data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < chunk.size(); i++) {
      String name = chunk.get(i).name();
      String file = name.substring(name.lastIndexOf('/') + 1).replaceAll("[\"\\r\\n]", "_");
      out.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"" + file
          + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8));
      out.writeBytes(data.get(i));
      out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
    }
    out.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
    return out.toByteArray();
  }

  private String queryString() {
    if (query.isEmpty()) {
      return "";
    }
    return "?" + query.entrySet().stream()
        .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
            + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
        .collect(Collectors.joining("&"));
  }

  private HttpRequest.Builder request(String path) {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(REQUEST_TIMEOUT);
    if (apiKey != null) {
      b.header("X-Api-Key", apiKey);
    }
    return b;
  }

  private synchronized void send(JsonObject msg) {
    // the JDK socket takes one send at a time: chain them
    String text = msg.encode();
    sending = sending.thenCompose(w -> w.sendText(text, true));
  }

  private void onMessage(String text) {
    JsonObject msg;
    try {
      msg = new JsonObject(text);
    } catch (DecodeException e) {
      return;
    }
    String type = msg.getString("type", "");
    switch (type) {
      case "subscribed" -> {
        JsonObject job = msg.getJsonObject("job");
        Tracker t = job == null ? null : trackers.get(job.getString("id"));
        if (t != null) {
          t.onSnapshot(job);
        }
      }
      case "progress" -> {
        Tracker t = trackers.get(msg.getString("jobId", ""));
        if (t != null) {
          t.touch();
          LOG.info("event=ws_progress job=" + t.jobId + " index=" + msg.getInteger("index") + " stage="
              + msg.getString("stage") + (msg.getValue("batchSize") != null ? " batch=" + msg.getValue("batchSize") : ""));
        }
      }
      case "item" -> {
        Tracker t = trackers.get(msg.getString("jobId", ""));
        if (t != null && msg.getJsonObject("item") != null) {
          t.onItem(msg.getJsonObject("item"));
        }
      }
      case "job_done" -> {
        Tracker t = trackers.get(msg.getString("jobId", ""));
        if (t != null) {
          // the socket said the job is over: make sure no item was missed
          downloads.execute(t::poll);
        }
      }
      case "error" -> {
        LOG.warning("event=ws_error code=" + msg.getString("code") + " message=\"" + msg.getString("message") + "\"");
        Tracker t = trackers.get(msg.getString("ref", ""));
        if (t != null) {
          downloads.execute(t::poll);
        }
      }
      default -> {
        // hello, pong, unsubscribed: nothing to do
      }
    }
  }

  /** Asks the server for the state of jobs whose events stopped coming (or all of them without a socket). */
  private void pollQuietJobs() {
    long now = System.currentTimeMillis();
    for (Tracker t : trackers.values()) {
      if (!wsUp || now - t.lastEvent > IDLE_POLL_MS) {
        t.poll();
      }
    }
  }

  @Override
  public String where() {
    return "on " + base;
  }

  @Override
  public void close() {
    if (poller != null) {
      poller.shutdownNow();
    }
    if (downloads != null) {
      downloads.shutdown();
    }
    WebSocket w = ws;
    if (w != null && wsUp) {
      try {
        sending.thenCompose(x -> w.sendClose(WebSocket.NORMAL_CLOSURE, "done")).get(2, TimeUnit.SECONDS);
      } catch (Exception e) {
        w.abort();
      }
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  private static String describe(Throwable e) {
    Throwable c = e;
    while (c.getCause() != null && (c.getMessage() == null || c instanceof java.util.concurrent.ExecutionException)) {
      c = c.getCause();
    }
    return c.getMessage() != null ? c.getMessage() : c.getClass().getSimpleName();
  }

  /** A JSON error answer of the API: {@code {"error":{"code","message"}}}. */
  private record ApiError(String code, String message) {
    static ApiError of(HttpResponse<byte[]> r) {
      try {
        JsonObject e = new JsonObject(new String(r.body(), StandardCharsets.UTF_8)).getJsonObject("error");
        if (e != null) {
          return new ApiError(e.getString("code", "http_" + r.statusCode()), e.getString("message", ""));
        }
      } catch (RuntimeException notJson) {
        // a proxy's page, not the API
      }
      return new ApiError(r.statusCode() >= 500 ? ErrorCode.INTERNAL_ERROR.code() : "http_" + r.statusCode(),
          "HTTP " + r.statusCode());
    }
  }

  /** Text frames may come in parts; each whole message goes to {@link #onMessage}. */
  private final class Listener implements WebSocket.Listener {
    private final StringBuilder text = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        String message = text.toString();
        text.setLength(0);
        onMessage(message);
      }
      socket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket socket, int status, String reason) {
      wsUp = false;
      LOG.info("event=ws_closed status=" + status);
      return null;
    }

    @Override
    public void onError(WebSocket socket, Throwable error) {
      wsUp = false;
      LOG.warning("event=ws_failed error=\"" + describe(error) + "\": polling instead");
    }
  }

  /** One job of this run: which of its items are reported, which are being downloaded. */
  private final class Tracker {
    final String jobId;
    final List<InputSet.Item> items;
    final Semaphore slots;
    final boolean[] handled;
    int remaining;
    int downloading;
    boolean cancelled;
    boolean complete;
    int pollFailures;
    volatile long lastEvent = System.currentTimeMillis();

    Tracker(String jobId, List<InputSet.Item> items, Semaphore slots) {
      this.jobId = jobId;
      this.items = items;
      this.slots = slots;
      this.handled = new boolean[items.size()];
      this.remaining = items.size();
    }

    void touch() {
      lastEvent = System.currentTimeMillis();
    }

    void onSnapshot(JsonObject job) {
      touch();
      JsonArray list = job.getJsonArray("items", new JsonArray());
      for (int i = 0; i < list.size(); i++) {
        JsonObject item = list.getJsonObject(i);
        String stage = item.getString("stage", "");
        if (stage.equals("done") || stage.equals("failed")) {
          onItem(item.copy().put("index", item.getInteger("index", i)));
        }
      }
    }

    synchronized void onItem(JsonObject item) {
      touch();
      int index = item.getInteger("index", -1);
      if (cancelled || index < 0 || index >= handled.length || handled[index]) {
        return;
      }
      handled[index] = true;
      InputSet.Item input = items.get(index);
      if ("done".equals(item.getString("stage"))) {
        downloading++;
        downloads.execute(() -> download(index, input, item));
        return;
      }
      report.failed(input.name(), item.getString("code", ErrorCode.INTERNAL_ERROR.code()), item.getString("message"),
          extra(index));
      remaining--;
      maybeComplete();
    }

    private void download(int index, InputSet.Item input, JsonObject item) {
      long t0 = System.nanoTime();
      try {
        HttpResponse<byte[]> r = http.send(request("api/v1/jobs/" + jobId + "/items/" + index).GET().build(),
            HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
          ApiError e = ApiError.of(r);
          report.failed(input.name(), e.code(), e.message(), extra(index));
        } else {
          try {
            AtomicFiles.write(input.output(), r.body());
            report.done(input.name(), new Report.Done(input.output().toString(), item.getInteger("width", 0),
                item.getInteger("height", 0), item.getString("model", model), item.getDouble("confidence", 0.0),
                item.getBoolean("review", false), item.getBoolean("cached", false),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), extra(index)));
          } catch (IOException | RuntimeException e) {
            report.failed(input.name(), Report.WRITE_FAILED, input.output() + ": " + e.getMessage(), extra(index));
          }
        }
      } catch (IOException e) {
        report.failed(input.name(), Report.CONNECTION_FAILED, describe(e), extra(index));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        report.failed(input.name(), Report.CONNECTION_FAILED, "interrupted", extra(index));
      } finally {
        synchronized (this) {
          downloading--;
          remaining--;
          maybeComplete();
        }
      }
    }

    private JsonObject extra(int index) {
      return new JsonObject().put("job", jobId).put("index", index);
    }

    /** Reads the job's state over HTTP and reports what the socket did not. */
    void poll() {
      synchronized (this) {
        if (complete || cancelled) {
          return;
        }
      }
      touch();
      try {
        HttpResponse<byte[]> r = http.send(request("api/v1/jobs/" + jobId).GET().build(),
            HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() == 200) {
          pollFailures = 0;
          onSnapshot(new JsonObject(new String(r.body(), StandardCharsets.UTF_8)));
          return;
        }
        if (r.statusCode() == 404) {
          // deleted on the server (retention cleanup, someone else): nothing more will come
          giveUp(ErrorCode.JOB_NOT_FOUND.code(), "the job is gone from the server");
          return;
        }
        pollFailed("HTTP " + r.statusCode());
      } catch (IOException | RuntimeException e) {
        pollFailed(describe(e));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private void pollFailed(String why) {
      if (++pollFailures >= MAX_POLL_FAILURES) {
        giveUp(Report.CONNECTION_FAILED, "no answer from the server about job " + jobId + ": " + why);
      }
    }

    private synchronized void giveUp(String code, String message) {
      for (int i = 0; i < handled.length; i++) {
        if (!handled[i]) {
          handled[i] = true;
          report.failed(items.get(i).name(), code, message, extra(i));
          remaining--;
        }
      }
      maybeComplete();
    }

    /** Ctrl-C: the items the server has not finished are dropped (the job is deleted). */
    synchronized void cancel() {
      if (cancelled || complete) {
        return;
      }
      cancelled = true;
      int dropped = remaining - downloading;
      cancelledItems.addAndGet(dropped);
      remaining = downloading;
      maybeComplete();
    }

    private void maybeComplete() {
      if (complete || remaining > 0) {
        return;
      }
      complete = true;
      trackers.remove(jobId);
      if (wsUp && !cancelled) {
        send(new JsonObject().put("type", "unsubscribe").put("jobId", jobId));
      }
      if (!keepJobs || cancelled) {
        // results are on the user's disk now; a cancelled job must not go on using the server
        http.sendAsync(request("api/v1/jobs/" + jobId).DELETE().build(), HttpResponse.BodyHandlers.discarding())
            .whenComplete((r, e) -> slots.release());
      } else {
        slots.release();
      }
    }
  }
}
