package io.unimatte.service;

import io.unimatte.api.MatteApiTestAccess;
import io.unimatte.testing.RawHttp;
import io.unimatte.testing.TestServer;
import io.unimatte.testing.TestSessions;
import io.unimatte.testing.TinyModel;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A bounded load (loopback, stops by itself): 16 clients mix single uploads, batch jobs and
 * WebSocket submissions, 200 images in all, against a queue small enough to overflow. Every
 * image gets exactly one outcome: a result, a 503 with Retry-After (uploads), or an error code.
 */
class LoadTest {
  /** Defaults of the suite; bench/load.sh raises them with -Dunimatte.load.clients / .images. */
  private static final int CLIENTS = Integer.getInteger("unimatte.load.clients", 16);
  private static final int IMAGES = Integer.getInteger("unimatte.load.images", 200);
  private static final int PER_ROUND = 5; // 1 upload + a 2-image job + a 2-image WebSocket submit
  @TempDir
  Path models;

  @Test
  void sixteenClientsTwoHundredImagesNothingLostNo500s() throws Exception {
    Path dir = TinyModel.write(models, "tiny");
    try (TestServer server = TestServer.start(models, "tiny", TestSessions.slowTinyModel(dir, 15, new CountDownLatch(0)),
        cfg -> {
          cfg.getJsonObject("inference").put("maxQueueSize", 4).put("maxBatchSize", 2).put("warmupRuns", 0);
          cfg.getJsonObject("cache").put("enabled", false);
          cfg.getJsonObject("jobs").put("maxConcurrentJobsPerClient", CLIENTS * 2); // all clients share 127.0.0.1
        })) {
      Runtime rt = Runtime.getRuntime();
      System.gc();
      long heapBefore = rt.totalMemory() - rt.freeMemory();
      HttpClient http = HttpClient.newBuilder().build();
      Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
      AtomicInteger images = new AtomicInteger();
      ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
      List<Future<?>> clients = new ArrayList<>();
      long deadline = System.currentTimeMillis() + Long.getLong("unimatte.load.seconds", 120) * 1000;
      for (int c = 0; c < CLIENTS; c++) {
        clients.add(pool.submit(() -> {
          while (images.getAndAdd(PER_ROUND) + PER_ROUND <= IMAGES && System.currentTimeMillis() < deadline) {
            // as curl uploads a photo: multipart, Expect: 100-continue, the body after the 100
            RawHttp.Response up = server.postLikeCurl("/api/v1/matte", "image", "load.png", "image/png",
                MatteApiTestAccess.png(20 + (int) (Math.random() * 200)));
            if (up.status() == 503) {
              assertTrue(up.header("Retry-After") != null, "503 carries Retry-After");
            }
            outcomes.computeIfAbsent("upload " + up.status(), k -> new AtomicInteger()).incrementAndGet();
            for (String outcome : runJob(server, http)) {
              outcomes.computeIfAbsent("job " + outcome, k -> new AtomicInteger()).incrementAndGet();
            }
            for (String outcome : runWebSocket(server, http)) {
              outcomes.computeIfAbsent("ws " + outcome, k -> new AtomicInteger()).incrementAndGet();
            }
          }
          return null;
        }));
      }
      for (Future<?> f : clients) {
        f.get(180, TimeUnit.SECONDS);
      }
      pool.shutdown();
      int total = outcomes.values().stream().mapToInt(AtomicInteger::get).sum();
      System.out.println("load outcomes: " + outcomes);
      assertEquals(IMAGES, total, "exactly one outcome per image: " + outcomes);
      assertTrue(outcomes.keySet().stream().noneMatch(k -> k.contains("500")), "no 500s: " + outcomes);
      assertTrue(outcomes.keySet().stream().allMatch(k -> k.endsWith(" 200") || k.endsWith(" 503") || k.endsWith(" done")),
          "only results, or 503 for uploads: " + outcomes);
      assertTrue(outcomes.getOrDefault("upload 503", new AtomicInteger()).get() > 0, "the queue overflowed: " + outcomes);
      System.gc();
      long heapAfter = rt.totalMemory() - rt.freeMemory();
      System.out.printf("heap before %d MB, after %d MB%n", heapBefore >> 20, heapAfter >> 20);
      assertTrue(heapAfter < heapBefore + (256L << 20), "heap returns near its start: " + (heapAfter >> 20) + " MB");
    }
  }

  /** A 2-image job; returns each item's final stage once the job is finished. */
  private static List<String> runJob(TestServer server, HttpClient http) throws Exception {
    String boundary = "b" + UUID.randomUUID();
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (int i = 0; i < 2; i++) {
      body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"j" + i
          + ".png\"\r\nContent-Type: image/png\r\n\r\n").getBytes());
      body.writeBytes(MatteApiTestAccess.png(30 + i));
      body.writeBytes("\r\n".getBytes());
    }
    body.writeBytes(("--" + boundary + "--\r\n").getBytes());
    HttpResponse<String> created = http.send(HttpRequest.newBuilder(server.uri("/api/v1/jobs"))
        .header("Content-Type", "multipart/form-data; boundary=" + boundary)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(202, created.statusCode(), created.body());
    String id = new JsonObject(created.body()).getString("id");
    for (int i = 0; i < 1200; i++) {
      JsonObject job = new JsonObject(new String(server.get("/api/v1/jobs/" + id).body()));
      if (job.getInteger("done") + job.getInteger("failed") == 2) {
        List<String> stages = new ArrayList<>();
        job.getJsonArray("items").forEach(o -> stages.add(((JsonObject) o).getString("stage")));
        return stages;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("job " + id + " did not finish");
  }

  /** Submits 2 images over a WebSocket; returns "done" per result and the code per failed item. */
  private static List<String> runWebSocket(TestServer server, HttpClient http) throws Exception {
    List<String> out = new ArrayList<>();
    CompletableFuture<Void> finished = new CompletableFuture<>();
    StringBuilder partial = new StringBuilder();
    WebSocket ws = http.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + server.port() + "/api/v1/ws"),
        new WebSocket.Listener() {
          @Override
          public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
              JsonObject m = new JsonObject(partial.toString());
              partial.setLength(0);
              switch (m.getString("type")) {
                case "item" -> {
                  if ("failed".equals(m.getJsonObject("item").getString("stage"))) {
                    synchronized (out) {
                      out.add(m.getJsonObject("item").getString("code"));
                    }
                  }
                }
                case "result" -> {
                  synchronized (out) {
                    out.add("done");
                  }
                }
                case "job_done" -> finished.complete(null);
                default -> { }
              }
            }
            w.request(1);
            return null;
          }
        }).get(10, TimeUnit.SECONDS);
    JsonArray imgs = new JsonArray();
    for (int i = 0; i < 2; i++) {
      imgs.add(new JsonObject().put("name", "w" + i + ".png").put("data",
          Base64.getEncoder().encodeToString(MatteApiTestAccess.png(50 + i))));
    }
    ws.sendText(new JsonObject().put("type", "submit").put("images", imgs).encode(), true).join();
    finished.get(60, TimeUnit.SECONDS);
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
    return out;
  }
}
