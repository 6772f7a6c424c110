package io.unimatte.cluster;

import io.unimatte.testing.TinyModel;
import io.unimatte.testing.WsClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A real cluster on loopback: one front and two workers, each its own JVM joined over Hazelcast
 * (TCP-IP member list). Images sent to the front are served by both workers; when one worker is
 * killed with SIGKILL during a batch job, every image still ends with exactly one result or a
 * retryable error, and the worker's progress events reach a browser on the front.
 */
class ClusterTest {
  /** Per session call: long enough that a 40-image job is still running when a worker dies. */
  private static final long WORKER_DELAY_MS = 250;
  private static final int LIVE_IMAGES = 30;
  private static final int JOB_IMAGES = 40;

  @TempDir
  Path tmp;
  private final List<Process> nodes = new ArrayList<>();
  // HTTP/1.1 like curl (see TestServer)
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private int httpPort;

  @AfterEach
  void stopNodes() throws InterruptedException {
    for (Process p : nodes) {
      p.destroyForcibly();
    }
    for (Process p : nodes) {
      p.waitFor(10, TimeUnit.SECONDS);
    }
    // keep the nodes' logs where a developer finds them after a failure
    Path keep = Path.of("target", "cluster-test-logs");
    try {
      Files.createDirectories(keep);
      for (String log : List.of("front.log", "worker-a.log", "worker-b.log")) {
        if (Files.exists(tmp.resolve(log))) {
          Files.copy(tmp.resolve(log), keep.resolve(log), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      System.err.println("cluster-test: cannot keep logs: " + e);
    }
  }

  @Test
  void bothWorkersServeAndAKilledWorkersImagesAreRetriedOrFailRetryably() throws Exception {
    Path models = tmp.resolve("models");
    TinyModel.write(models, "tiny");
    String name = "unimatte-test-" + UUID.randomUUID();
    int[] hz = {freePort(), freePort(), freePort()};
    httpPort = freePort();
    JsonArray members = new JsonArray();
    for (int p : hz) {
      members.add("127.0.0.1:" + p);
    }
    List<String> common = List.of("--cluster.name=" + name, "--cluster.members=" + members.encode(),
        "--cluster.host=127.0.0.1", "--cluster.eventBusHost=127.0.0.1", "--cluster.claimTimeoutMs=3000",
        "--cluster.failureDetectionSeconds=5", "--cluster.statusIntervalMs=300",
        "--models.dir=" + models, "--models.default=tiny", "--models.serve=[\"tiny\"]",
        "--models.autoImport=false",
        "--server.host=127.0.0.1", "--server.port=" + httpPort, "--server.httpInstances=1",
        "--jobs.outputsDir=" + tmp.resolve("outputs"), "--inference.warmupRuns=1", "--inference.maxBatchSize=1");
    Process workerA = start("worker-a", "worker", hz[0], common);
    int workerMetricsPort = freePort();
    List<String> withMetrics = new ArrayList<>(common);
    withMetrics.add("--cluster.workerMetricsPort=" + workerMetricsPort);
    start("worker-b", "worker", hz[1], withMetrics);
    start("front", "front", hz[2], common);

    JsonObject health = awaitHealth(h -> h.getInteger("workerCount", 0) == 2, 90);
    assertEquals("front", health.getString("role"));
    String nodeA = null;

    // 1. thirty different images (no cache hits) through the front, several at a time
    ExecutorService pool = Executors.newFixedThreadPool(6);
    try {
      List<Future<HttpResponse<byte[]>>> answers = new ArrayList<>();
      for (int i = 0; i < LIVE_IMAGES; i++) {
        byte[] png = halfBright(40 + i);
        answers.add(pool.submit(() -> http.send(HttpRequest.newBuilder(uri("/api/v1/matte?output=alpha"))
            .header("Content-Type", "image/png").POST(HttpRequest.BodyPublishers.ofByteArray(png)).build(),
            HttpResponse.BodyHandlers.ofByteArray())));
      }
      for (Future<HttpResponse<byte[]>> f : answers) {
        HttpResponse<byte[]> r = f.get(60, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode(), new String(r.body()));
        BufferedImage matte = ImageIO.read(new ByteArrayInputStream(r.body()));
        // left half white (foreground), right half black (background)
        assertTrue((matte.getRaster().getSample(2, 10, 0)) > 200, "bright side is foreground");
        assertTrue((matte.getRaster().getSample(matte.getWidth() - 3, 10, 0)) < 55, "dark side is background");
      }
    } finally {
      pool.shutdownNow();
    }
    JsonObject after = awaitHealth(h -> completed(h) >= LIVE_IMAGES, 20);
    Map<String, Long> served = new HashMap<>();
    for (Object o : after.getJsonArray("workers")) {
      JsonObject w = (JsonObject) o;
      served.put(w.getString("node"), w.getLong("completed"));
    }
    assertEquals(2, served.size(), after.encodePrettily());
    served.forEach((node, n) -> assertTrue(n > 0, "worker " + node + " served none: " + served));
    System.out.println("cluster-test: served per worker " + served);
    // each node's /metrics shows its own: the front its workers, worker B its engine
    String front = http.send(HttpRequest.newBuilder(uri("/metrics")).GET().build(),
        HttpResponse.BodyHandlers.ofString()).body();
    assertTrue(front.contains("\nunimatte_workers 2.0\n"), front);
    assertTrue(front.contains("\nunimatte_model_ready{model=\"tiny\"} 1.0\n"), front);
    assertFalse(front.contains("\nunimatte_images_completed_total"), front);
    String workerB = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + workerMetricsPort + "/metrics"))
        .GET().build(), HttpResponse.BodyHandlers.ofString()).body();
    String completedB = workerB.lines().filter(l -> l.startsWith("unimatte_images_completed_total{model=\"tiny\"} "))
        .findFirst().orElseThrow(() -> new AssertionError(workerB));
    long servedB = (long) Double.parseDouble(completedB.substring(completedB.lastIndexOf(' ') + 1));
    assertTrue(served.containsValue(servedB), completedB + " vs " + served);

    // 2. a batch job; one worker is killed while it runs
    List<byte[]> images = new ArrayList<>();
    for (int i = 0; i < JOB_IMAGES; i++) {
      images.add(halfBright(100 + i));
    }
    HttpResponse<byte[]> created = postJob(images);
    assertEquals(202, created.statusCode(), new String(created.body()));
    String jobId = new JsonObject(new String(created.body())).getString("id");
    WsClient ws = WsClient.connect(httpPort, 10);
    ws.send(new JsonObject().put("type", "subscribe").put("jobId", jobId).put("ref", "r1"));

    long deadline = System.currentTimeMillis() + 30_000;
    JsonObject job = getJob(jobId);
    while (job.getInteger("done") < 6 && System.currentTimeMillis() < deadline) {
      Thread.sleep(50);
      job = getJob(jobId);
    }
    int doneAtKill = job.getInteger("done");
    assertTrue(doneAtKill < JOB_IMAGES, "the job must still be running when the worker dies");
    workerA.destroyForcibly(); // SIGKILL: no goodbye to the cluster
    long killedAt = System.currentTimeMillis();

    Map<Integer, Integer> itemEvents = new HashMap<>();
    boolean sawWorkerProgress = false;
    JsonObject m;
    do {
      m = ws.next(90);
      if ("item".equals(m.getString("type"))) {
        itemEvents.merge(m.getJsonObject("item").getInteger("index"), 1, Integer::sum);
      }
      // "inferring" is published by the worker's engine only: it crossed the cluster to reach us
      sawWorkerProgress |= "progress".equals(m.getString("type")) && "inferring".equals(m.getString("stage"));
    } while (!"job_done".equals(m.getString("type")));
    long recoveryMs = System.currentTimeMillis() - killedAt;

    job = getJob(jobId);
    JsonArray items = job.getJsonArray("items");
    assertEquals(JOB_IMAGES, items.size());
    int done = 0;
    int retryable = 0;
    for (int i = 0; i < JOB_IMAGES; i++) {
      JsonObject item = items.getJsonObject(i);
      assertEquals(1, itemEvents.getOrDefault(i, 0), "exactly one outcome event for item " + i);
      if ("done".equals(item.getString("stage"))) {
        done++;
        HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(uri("/api/v1/jobs/" + jobId + "/items/" + i))
            .GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode());
        assertNotNull(ImageIO.read(new ByteArrayInputStream(r.body())));
      } else {
        assertEquals("failed", item.getString("stage"), item.encode());
        assertEquals(Boolean.TRUE, item.getBoolean("retryable"), "a lost image fails retryably: " + item.encode());
        retryable++;
      }
    }
    assertEquals(JOB_IMAGES, done + retryable);
    assertTrue(done > doneAtKill, "the surviving worker carried on after the kill");
    assertTrue(sawWorkerProgress, "progress events of the workers reach the browser on the front");
    String frontLog = Files.readString(tmp.resolve("front.log"));
    assertFalse(frontLog.contains("event=item_completed_twice"), "no item was completed twice");
    JsonObject survivors = awaitHealth(h -> h.getInteger("workerCount", 0) == 1, 30);
    assertEquals(200, healthStatus());
    System.out.println("cluster-test: job done=" + done + " retryableFailures=" + retryable + " doneAtKill="
        + doneAtKill + " recoveryMs=" + recoveryMs + " retries=" + count(frontLog, "event=inference_retry")
        + " workersAfter=" + survivors.getInteger("workerCount"));
  }

  private Process start(String label, String role, int hazelcastPort, List<String> common) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
        ClusterNodeMain.class.getName(), role.equals("worker") ? Long.toString(WORKER_DELAY_MS) : "0",
        "--cluster.role=" + role, "--cluster.port=" + hazelcastPort));
    cmd.addAll(common);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(tmp.resolve(label + ".log").toFile());
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    Process p = pb.start();
    nodes.add(p);
    return p;
  }

  private interface Check {
    boolean test(JsonObject health);
  }

  private JsonObject awaitHealth(Check check, int seconds) throws Exception {
    long deadline = System.currentTimeMillis() + seconds * 1000L;
    JsonObject last = null;
    while (System.currentTimeMillis() < deadline) {
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri("/health")).GET().build(),
            HttpResponse.BodyHandlers.ofString());
        last = new JsonObject(r.body());
        if (check.test(last)) {
          return last;
        }
      } catch (IOException notUpYet) {
        // the front is still starting
      }
      for (Process p : nodes) {
        if (!p.isAlive() && p.exitValue() != 137) {
          fail("a node exited with " + p.exitValue() + "; see its log in " + tmp);
        }
      }
      Thread.sleep(200);
    }
    fail("health never matched within " + seconds + " s; last: " + last + "\nfront log:\n" + tail("front.log"));
    return null;
  }

  private int healthStatus() throws Exception {
    return http.send(HttpRequest.newBuilder(uri("/health")).GET().build(), HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  private static long completed(JsonObject health) {
    long sum = 0;
    for (Object o : health.getJsonArray("workers", new JsonArray())) {
      sum += ((JsonObject) o).getLong("completed", 0L);
    }
    return sum;
  }

  private String tail(String log) throws IOException {
    String s = Files.readString(tmp.resolve(log));
    return s.substring(Math.max(0, s.length() - 4000));
  }

  private static int count(String s, String what) {
    int n = 0;
    for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
      n++;
    }
    return n;
  }

  private JsonObject getJob(String id) throws Exception {
    return new JsonObject(http.send(HttpRequest.newBuilder(uri("/api/v1/jobs/" + id)).GET().build(),
        HttpResponse.BodyHandlers.ofString()).body());
  }

  private HttpResponse<byte[]> postJob(List<byte[]> images) throws Exception {
    String boundary = "b" + UUID.randomUUID();
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (int i = 0; i < images.size(); i++) {
      body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"img" + i
          + ".png\"\r\nContent-Type: image/png\r\n\r\n").getBytes());
      body.writeBytes(images.get(i));
      body.writeBytes("\r\n".getBytes());
    }
    body.writeBytes(("--" + boundary + "--\r\n").getBytes());
    return http.send(HttpRequest.newBuilder(uri("/api/v1/jobs"))
            .header("Content-Type", "multipart/form-data; boundary=" + boundary)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  /** A {@code width}×20 PNG: left half white, right half black (each width gives other bytes). */
  private static byte[] halfBright(int width) throws IOException {
    BufferedImage img = new BufferedImage(width, 20, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 20; y++) {
      for (int x = 0; x < width / 2; x++) {
        img.setRGB(x, y, 0xffffff);
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + httpPort + path);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
