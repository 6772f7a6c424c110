package io.unimatte.testing;

import io.unimatte.UnimatteServer;
import io.unimatte.api.MetricsApi;
import io.unimatte.config.AppConfig;
import io.unimatte.inference.MattingSession;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A real Unimatte server on a free loopback port, configured from the project's
 * {@code config.json} with overrides, for black-box tests over HTTP.
 */
public final class TestServer implements AutoCloseable {
  private static final long START_TIMEOUT_SECONDS = 180;
  private final Vertx vertx;
  private final int port;
  private final java.util.concurrent.atomic.AtomicInteger blocked = new java.util.concurrent.atomic.AtomicInteger();
  private java.util.logging.Handler blockedWatcher;
  // HTTP/1.1 like curl; HttpServersTest is the one that asks for the h2c upgrade
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  private TestServer(Vertx vertx, int port) {
    this.vertx = vertx;
    this.port = port;
  }

  /** Starts with the model in {@code modelsDir/modelName}; {@code tweak} edits the config. */
  public static TestServer start(Path modelsDir, String modelName, Supplier<MattingSession> sessions,
                                 Consumer<JsonObject> tweak) throws Exception {
    Starting s = startAsync(modelsDir, modelName, sessions, tweak);
    s.ready().get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    return s.server();
  }

  /** A server whose deployment is still going on (the HTTP API answers while the model loads). */
  public record Starting(TestServer server, java.util.concurrent.CompletableFuture<Void> ready) {
  }

  /**
   * Starts with every served model loaded by TensorFlow as in production, each session passed through
   * {@code wrap} (e.g. made slower per call).
   */
  public static TestServer startWrapped(Path modelsDir, String modelName,
                                        java.util.function.UnaryOperator<MattingSession> wrap,
                                        Consumer<JsonObject> tweak) throws Exception {
    Starting s = startAsync(modelsDir, modelName, null, wrap, tweak);
    s.ready().get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    return s.server();
  }

  /** Like {@link #start} but returns as soon as deployment has begun. */
  public static Starting startAsync(Path modelsDir, String modelName, Supplier<MattingSession> sessions,
                                    Consumer<JsonObject> tweak) throws Exception {
    return startAsync(modelsDir, modelName, sessions, java.util.function.UnaryOperator.identity(), tweak);
  }

  private static Starting startAsync(Path modelsDir, String modelName, Supplier<MattingSession> sessions,
                                     java.util.function.UnaryOperator<MattingSession> wrap,
                                     Consumer<JsonObject> tweak) throws Exception {
    JsonObject json = AppConfig.load(Path.of("config.json"), java.util.Map.of(), new String[0]).json();
    int port = freePort();
    json.getJsonObject("server").put("host", "127.0.0.1").put("port", port).put("httpInstances", 1);
    json.getJsonObject("models").put("dir", modelsDir.toString()).put("default", modelName)
        .put("serve", new JsonArray().add(modelName));
    // tests of batching run tiny models on the CPU: maxBatchSize alone decides there, as on a GPU
    json.getJsonObject("inference").put("warmupRuns", 1).put("cpuMaxBatchSize", 0);
    json.getJsonObject("jobs").put("outputsDir", Files.createTempDirectory("unimatte-outputs").toString());
    tweak.accept(json);
    AppConfig config = AppConfig.of(json);
    // metrics on, as in production (Main → UnimatteServer.start)
    Vertx vertx = Vertx.vertx(MetricsApi.enable(new VertxOptions()));
    // no supplier: every served model is loaded by TensorFlow, as in production
    UnimatteServer.SessionFactory tf = sessions != null ? model -> sessions.get() : UnimatteServer.tensorFlowSessions(config);
    UnimatteServer.SessionFactory s = model -> wrap.apply(tf.open(model));
    TestServer server = new TestServer(vertx, port);
    server.watchBlockedThreads();
    return new Starting(server, UnimatteServer.deploy(vertx, config, s).toCompletionStage().toCompletableFuture());
  }

  /** Counts Vert.x's blocked-thread warnings (its checker logs them under this logger). */
  private void watchBlockedThreads() {
    blockedWatcher = new java.util.logging.Handler() {
      @Override
      public void publish(java.util.logging.LogRecord r) {
        String m = r.getMessage();
        if (m != null && m.contains("has been blocked for")) {
          blocked.incrementAndGet();
        }
      }

      @Override
      public void flush() {
      }

      @Override
      public void close() {
      }
    };
    java.util.logging.Logger.getLogger("io.vertx.core.impl.BlockedThreadChecker").addHandler(blockedWatcher);
  }

  /** How many blocked-thread warnings Vert.x logged since this server started. */
  public int blockedThreadWarnings() {
    return blocked.get();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  public int port() {
    return port;
  }

  public Vertx vertx() {
    return vertx;
  }

  public URI uri(String pathAndQuery) {
    return URI.create("http://127.0.0.1:" + port + pathAndQuery);
  }

  public HttpResponse<byte[]> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  /** POSTs {@code data} as the multipart field {@code field} (like {@code curl -F field=@file}). */
  public HttpResponse<byte[]> postMultipart(String path, String field, String filename, String contentType,
                                            byte[] data) throws Exception {
    String boundary = "----unimatte" + UUID.randomUUID();
    byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field + "\"; filename=\""
        + filename + "\"\r\nContent-Type: " + contentType + "\r\n\r\n").getBytes();
    byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes();
    byte[] body = new byte[head.length + data.length + tail.length];
    System.arraycopy(head, 0, body, 0, head.length);
    System.arraycopy(data, 0, body, head.length, data.length);
    System.arraycopy(tail, 0, body, head.length + data.length, tail.length);
    return http.send(HttpRequest.newBuilder(uri(path))
            .header("Content-Type", "multipart/form-data; boundary=" + boundary)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  /**
   * POSTs {@code data} as the multipart field {@code field} the way curl sends a large upload: with
   * {@code Expect: 100-continue}, the body only after the server's {@code 100 Continue}.
   */
  public RawHttp.Response postLikeCurl(String path, String field, String filename, String contentType, byte[] data)
      throws Exception {
    return RawHttp.postLikeCurl(port, path, RawHttp.multipart(field, filename, contentType, data), Duration.ofSeconds(120));
  }

  /** POSTs the raw bytes with the given content type. */
  public HttpResponse<byte[]> postRaw(String path, String contentType, byte[] data) throws Exception {
    return http.send(HttpRequest.newBuilder(uri(path)).header("Content-Type", contentType)
        .POST(HttpRequest.BodyPublishers.ofByteArray(data)).build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  @Override
  public void close() throws Exception {
    java.util.logging.Logger.getLogger("io.vertx.core.impl.BlockedThreadChecker").removeHandler(blockedWatcher);
    // the way the server stops on SIGTERM: jobs first, then the rest
    UnimatteServer.stop(vertx).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
