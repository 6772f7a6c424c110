package io.unimatte.testing;

import io.unimatte.cluster.ClusterNodeMain;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Unimatte server in its own JVM, started the way {@code Main} starts ({@code config.json} plus
 * {@code --section.key=value} flags, SIGTERM hook), so a test can kill it with SIGKILL or SIGTERM
 * and start it again on the same {@code outputs/}. It serves one model from {@code modelsDir}
 * (e.g. {@link TinyModel}), each session call slowed by {@code delayMs} so a job is still running
 * when the signal comes. The log goes to {@code log} (appended across restarts).
 */
public final class ServerProcess implements AutoCloseable {
  private static final long START_TIMEOUT_MS = 120_000;
  private static final long POLL_MS = 100;
  private static final long EXIT_TIMEOUT_SECONDS = 120;

  private final Process process;
  private final int port;
  private final Path log;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  private ServerProcess(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /** Starts the server and waits until {@code /health} answers 200. */
  public static ServerProcess start(Path modelsDir, String model, Path outputs, long delayMs, Path log,
                                    String... flags) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), ClusterNodeMain.class.getName(), Long.toString(delayMs),
        "--server.host=127.0.0.1", "--server.port=" + port, "--server.httpInstances=1",
        "--models.dir=" + modelsDir, "--models.default=" + model, "--models.serve=[\"" + model + "\"]",
        "--models.autoImport=false", "--inference.warmupRuns=1", "--jobs.outputsDir=" + outputs));
    cmd.addAll(List.of(flags));
    Files.createDirectories(log.getParent());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    ServerProcess server = new ServerProcess(p, port, log);
    server.awaitHealthy();
    return server;
  }

  private void awaitHealthy() throws Exception {
    long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
    while (true) {
      try {
        if (get("/health").statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // still starting
      }
      assertTrue(System.currentTimeMillis() < deadline && process.isAlive(), "server did not start; log: " + log);
      Thread.sleep(POLL_MS);
    }
  }

  public int port() {
    return port;
  }

  public long pid() {
    return process.pid();
  }

  public URI uri(String pathAndQuery) {
    return URI.create("http://127.0.0.1:" + port + pathAndQuery);
  }

  public HttpResponse<byte[]> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  /** GET of a JSON answer. */
  public JsonObject json(String path) throws Exception {
    return new JsonObject(new String(get(path).body()));
  }

  /** POSTs a multipart body made by {@link Multiparts}. */
  public HttpResponse<byte[]> post(String path, Multiparts.Body body) throws Exception {
    return http.send(HttpRequest.newBuilder(uri(path)).header("Content-Type", body.contentType())
        .POST(HttpRequest.BodyPublishers.ofByteArray(body.bytes())).build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  /** SIGKILL: no shutdown hook runs, like a power cut or an OOM kill. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(EXIT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  /** SIGTERM; returns whether the server exited by itself in time. */
  public boolean terminate() throws InterruptedException {
    process.destroy();
    return process.waitFor(EXIT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  /** The log so far. */
  public String logText() throws IOException {
    return Files.readString(log);
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}
