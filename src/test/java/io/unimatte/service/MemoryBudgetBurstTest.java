package io.unimatte.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.unimatte.testing.TinyModel;
import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.File;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The acceptance of the memory budget (issue 21): a server of its own, with a small budget, gets a
 * burst of 12-MP photos at once. Every request is answered, 200 or 503 with {@code Retry-After}; the
 * process neither dies nor runs out of memory; and its resident memory stays within the budget plus
 * {@link #MARGIN} (the budget reckons images by a per-pixel estimate, and the heap grows in regions).
 */
class MemoryBudgetBurstTest {
  private static final long MB = 1024 * 1024;
  /** The process's whole budget: about 1.5 times what the JVM and TensorFlow take before any image. */
  private static final long BUDGET = 1_200 * MB;
  /** How far above the budget the process may go. */
  private static final long MARGIN = 200 * MB;
  private static final String HEAP = "-Xmx1g";
  private static final int PHOTOS = 8;
  private static final int WIDTH = 4000;
  private static final int HEIGHT = 3000;
  private static final long SAMPLE_MS = 50;
  /** How long a photo may wait for room: some are admitted after a wait, the last ones get 503. */
  private static final long WAIT_MS = 8_000;

  @TempDir
  Path models;
  @TempDir
  Path outputs;

  @Test
  void aBurstOfLargePhotosIsAnsweredWithinTheBudget() throws Exception {
    Path status = Path.of("/proc/self/status");
    assumeTrue(Files.isReadable(status), "reads the child's resident memory from /proc (Linux)");
    TinyModel.write(models, "tiny");
    byte[] photo = largeJpeg();
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    File log = File.createTempFile("unimatte-budget", ".log");
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        HEAP, "-XX:+UseG1GC", "-cp", System.getProperty("java.class.path"), "io.unimatte.Main")
        .redirectErrorStream(true).redirectOutput(log);
    pb.environment().put("PORT", Integer.toString(port));
    pb.environment().put("UNIMATTE_SERVER_HOST", "127.0.0.1");
    pb.environment().put("UNIMATTE_SERVER_MEMORY_BUDGET_BYTES", Long.toString(BUDGET));
    pb.environment().put("UNIMATTE_SERVER_MEMORY_WAIT_MS", Long.toString(WAIT_MS));
    pb.environment().put("UNIMATTE_MODELS_DIR", models.toString());
    pb.environment().put("UNIMATTE_MODELS_DEFAULT", "tiny");
    pb.environment().put("UNIMATTE_MODELS_SERVE", "[\"tiny\"]");
    pb.environment().put("UNIMATTE_MODELS_AUTO_IMPORT", "false");
    pb.environment().put("UNIMATTE_CACHE_ENABLED", "false");
    pb.environment().put("UNIMATTE_JOBS_OUTPUTS_DIR", outputs.toString());
    pb.environment().put("UNIMATTE_INFERENCE_WARMUP_RUNS", "1");
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    Process server = pb.start();
    Path childStatus = Path.of("/proc", Long.toString(server.pid()), "status");
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    AtomicLong peak = new AtomicLong();
    try {
      JsonObject health = waitReady(http, port, server);
      JsonObject memory = health.getJsonObject("memory");
      long base = memory.getLong("residentBaseBytes");
      System.out.printf("budget %d MB, resident at ready %d MB, room for images %d MB%n", BUDGET / MB, base / MB,
          memory.getLong("imagesCapacityBytes") / MB);
      assertTrue(memory.getLong("imagesCapacityBytes") >= MemoryBudget.cost((long) WIDTH * HEIGHT),
          "the test's budget leaves room for one photo: " + memory.encode());

      Thread sampler = new Thread(() -> {
        while (!Thread.currentThread().isInterrupted()) {
          peak.accumulateAndGet(rss(childStatus), Math::max);
          try {
            Thread.sleep(SAMPLE_MS);
          } catch (InterruptedException e) {
            return;
          }
        }
      });
      sampler.start();
      List<CompletableFuture<HttpResponse<byte[]>>> answers = new ArrayList<>();
      for (int i = 0; i < PHOTOS; i++) {
        answers.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/matte"))
            .timeout(Duration.ofMinutes(3)).header("Content-Type", "image/jpeg")
            .POST(HttpRequest.BodyPublishers.ofByteArray(photo)).build(), HttpResponse.BodyHandlers.ofByteArray()));
      }
      int ok = 0;
      int busy = 0;
      for (CompletableFuture<HttpResponse<byte[]>> a : answers) {
        HttpResponse<byte[]> r = a.get(4, TimeUnit.MINUTES);
        if (r.statusCode() == 200) {
          ok++;
        } else {
          assertEquals(503, r.statusCode(), new String(r.body()));
          assertTrue(r.headers().firstValue("Retry-After").isPresent(), "503 says when to come back");
          assertTrue(new String(r.body()).contains("memory_busy"), new String(r.body()));
          busy++;
        }
      }
      sampler.interrupt();
      sampler.join();
      System.out.printf("%d photos of %dx%d: %d answered 200, %d answered 503; peak resident %d MB%n", PHOTOS,
          WIDTH, HEIGHT, ok, busy, peak.get() / MB);
      assertTrue(ok >= 1, "the budget lets photos through");
      assertTrue(server.isAlive(), "the server is still running");
      String output = Files.readString(log.toPath());
      assertFalse(output.contains("OutOfMemoryError"), "no out-of-memory error");
      String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      assertTrue(metrics.contains("unimatte_memory_resident_bytes ") && metrics.contains("unimatte_memory_budget_bytes ")
          && metrics.contains("unimatte_memory_images_refused_total{reason=\"busy\"}"), "memory meters on /metrics");
      assertTrue(peak.get() <= BUDGET + MARGIN, "peak resident " + peak.get() / MB + " MB within the budget "
          + BUDGET / MB + " MB + " + MARGIN / MB + " MB");
    } finally {
      server.destroy();
      server.waitFor(60, TimeUnit.SECONDS);
    }
  }

  private static JsonObject waitReady(HttpClient http, int port, Process server) throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + port + "/health");
    long deadline = System.currentTimeMillis() + 120_000;
    while (true) {
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return new JsonObject(r.body());
        }
      } catch (java.io.IOException notYet) {
        // still starting
      }
      assertTrue(System.currentTimeMillis() < deadline && server.isAlive(), "server did not start");
      Thread.sleep(200);
    }
  }

  private static long rss(Path status) {
    try {
      for (String line : Files.readAllLines(status)) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.substring(6).trim().split("\\s+")[0]) * 1024;
        }
      }
    } catch (java.io.IOException | RuntimeException gone) {
      return 0;
    }
    return 0;
  }

  /** A 12-MP JPEG with a bright subject on a dark background and some texture to encode. */
  private static byte[] largeJpeg() throws Exception {
    BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < HEIGHT; y++) {
      for (int x = 0; x < WIDTH; x++) {
        boolean subject = Math.hypot(x - WIDTH / 2.0, y - HEIGHT / 2.0) < HEIGHT / 3.0;
        int v = subject ? 220 - (x * 7 + y * 3) % 40 : 20 + (x * 5 + y * 11) % 40;
        img.setRGB(x, y, v << 16 | v << 8 | v);
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "jpg", out);
    return out.toByteArray();
  }
}
