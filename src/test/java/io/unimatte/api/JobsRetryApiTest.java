package io.unimatte.api;

import io.unimatte.config.AppConfig;
import io.unimatte.imaging.output.OutputOptions;
import io.unimatte.jobs.JobInputs;
import io.unimatte.jobs.JobStore;
import io.unimatte.jobs.impl.StoredOptions;
import io.unimatte.inference.MattingSession;
import io.unimatte.testing.Multiparts;
import io.unimatte.testing.TestServer;
import io.unimatte.testing.TestSessions;
import io.unimatte.testing.TinyModel;
import io.unimatte.testing.WrappedSession;
import io.unimatte.testing.WsClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Batch jobs keep the inputs they may still need: failed-retryable items are queued again by
 * {@code POST /api/v1/jobs/{id}/retry} or the WebSocket {@code retry}; inputs of finished items
 * are deleted (unless {@code jobs.keepInputs}); running jobs' inputs count against
 * {@code jobs.maxTotalBytes}.
 */
class JobsRetryApiTest {
  /** Fewer than {@code inference.restartAfterFailedBatches}: the model is not reloaded meanwhile. */
  private static final int FAULTS = 2;
  private static final long WAIT_MS = 30_000;

  @TempDir
  Path models;
  @TempDir
  Path outputs;
  private final HttpClient http = HttpClient.newHttpClient();

  /** The tiny model, whose first {@code faults} session calls throw (a failed batch: retryable). */
  private Supplier<MattingSession> failingFirst(AtomicInteger faults) {
    AppConfig cfg = AppConfig.of(new JsonObject().put("models", new JsonObject().put("dir", models.toString())
        .put("default", "tiny")).put("inference", new JsonObject().put("intraOpThreads", 1).put("interOpThreads", 1)
        .put("bf16", "auto")));
    Supplier<MattingSession> real = TestSessions.defaultModel(cfg);
    return () -> new WrappedSession(real.get(), () -> {
      if (faults.getAndDecrement() > 0) {
        throw new IllegalStateException("injected fault");
      }
    }, true);
  }

  private TestServer server(Supplier<MattingSession> sessions, boolean keepInputs) throws Exception {
    TinyModel.write(models, "tiny");
    return TestServer.start(models, "tiny", sessions, cfg -> {
      cfg.getJsonObject("jobs").put("outputsDir", outputs.toString()).put("maxInFlight", 1).put("keepInputs", keepInputs);
      cfg.getJsonObject("inference").put("maxBatchSize", 1).put("warmupRuns", 0);
    });
  }

  private HttpResponse<byte[]> post(TestServer s, String path, Multiparts.Body body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(s.uri(path));
    b = body == null ? b.POST(HttpRequest.BodyPublishers.noBody())
        : b.header("Content-Type", body.contentType()).POST(HttpRequest.BodyPublishers.ofByteArray(body.bytes()));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static JsonObject finished(TestServer s, String id) throws Exception {
    long deadline = System.currentTimeMillis() + WAIT_MS;
    while (true) {
      JsonObject job = new JsonObject(new String(s.get("/api/v1/jobs/" + id).body()));
      if (job.getInteger("done") + job.getInteger("failed") == job.getInteger("total")) {
        return job;
      }
      assertTrue(System.currentTimeMillis() < deadline, job.encode());
      Thread.sleep(20);
    }
  }

  private List<String> inputs(String id) throws Exception {
    Path dir = outputs.resolve(id).resolve("inputs");
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static List<byte[]> pngs(int n) throws Exception {
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(MatteApiTestAccess.png(30 + i));
    }
    return out;
  }

  @Test
  void retryQueuesTheRetryableFailedItemsAgainWithTheirStoredInputs() throws Exception {
    try (TestServer s = server(failingFirst(new AtomicInteger(FAULTS)), false)) {
      List<Multiparts.FilePart> parts = new ArrayList<>();
      List<byte[]> pngs = pngs(3);
      for (int i = 0; i < pngs.size(); i++) {
        parts.add(new Multiparts.FilePart("image", "p" + i + ".png", "image/png", pngs.get(i)));
      }
      parts.add(new Multiparts.FilePart("image", "notes.png", "image/png", "not an image".getBytes()));
      HttpResponse<byte[]> created = post(s, "/api/v1/jobs", Multiparts.of(parts));
      assertEquals(202, created.statusCode(), new String(created.body()));
      String id = new JsonObject(new String(created.body())).getString("id");
      JsonObject job = finished(s, id);
      assertEquals("partial", job.getString("status"), job.encode());
      assertEquals(1, job.getInteger("done"), job.encode());
      assertEquals(3, job.getInteger("failed"));
      assertEquals(FAULTS, job.getInteger("retryable"), "inference_failed may pass again, a text file never: " + job.encode());
      // kept: the retryable failures' inputs; gone: the done one's and the text file's
      List<String> kept = new ArrayList<>();
      for (Object o : job.getJsonArray("items")) {
        JsonObject item = (JsonObject) o;
        if (item.getBoolean("retryable", false)) {
          assertEquals("inference_failed", item.getString("code"));
          kept.add(item.getInteger("index") + ".input");
        }
      }
      long deadline = System.currentTimeMillis() + WAIT_MS;
      while (!inputs(id).equals(kept) && System.currentTimeMillis() < deadline) {
        Thread.sleep(20);
      }
      assertEquals(kept, inputs(id));
      JsonObject summary = new JsonObject(new String(s.get("/api/v1/jobs").body())).getJsonArray("jobs").getJsonObject(0);
      assertEquals(FAULTS, summary.getInteger("retryable"), "the history says what Retry would do");

      HttpResponse<byte[]> retried = post(s, "/api/v1/jobs/" + id + "/retry", null);
      assertEquals(202, retried.statusCode(), new String(retried.body()));
      assertEquals(FAULTS, new JsonObject(new String(retried.body())).getInteger("retried"));
      job = finished(s, id);
      assertEquals(3, job.getInteger("done"), job.encode());
      assertEquals("partial", job.getString("status"), "the text file still failed");
      assertEquals("unsupported_format", job.getJsonArray("items").getJsonObject(3).getString("code"));
      assertEquals(1, job.getJsonArray("items").getJsonObject(0).getInteger("retries"));
      assertEquals(200, s.get("/api/v1/jobs/" + id + "/items/0").statusCode());

      HttpResponse<byte[]> again = post(s, "/api/v1/jobs/" + id + "/retry", null);
      assertEquals(409, again.statusCode());
      assertEquals("nothing_to_retry", MatteApiTestAccess.code(again));
      HttpResponse<byte[]> unknown = post(s, "/api/v1/jobs/" + UUID.randomUUID() + "/retry", null);
      assertEquals(404, unknown.statusCode());
      assertEquals("job_not_found", MatteApiTestAccess.code(unknown));
    }
  }

  @Test
  void retryOverWebSocketPushesTheNewResults() throws Exception {
    try (TestServer s = server(failingFirst(new AtomicInteger(FAULTS)), false)) {
      WsClient ws = WsClient.connect(s);
      JsonArray imgs = new JsonArray();
      for (byte[] png : pngs(3)) {
        imgs.add(new JsonObject().put("name", "w" + imgs.size() + ".png").put("data", Base64.getEncoder().encodeToString(png)));
      }
      ws.send(new JsonObject().put("type", "submit").put("ref", "s").put("images", imgs));
      JsonObject m = ws.next();
      assertEquals("accepted", m.getString("type"));
      String id = m.getJsonObject("job").getString("id");
      do {
        m = ws.next();
      } while (!"job_done".equals(m.getString("type")));
      assertEquals("partial", m.getString("status"));
      assertEquals(FAULTS, m.getInteger("retryable"), m.encode());

      ws.send(new JsonObject().put("type", "retry").put("ref", "r").put("jobId", id));
      m = ws.next();
      assertEquals("retried", m.getString("type"), m.encode());
      assertEquals("r", m.getString("ref"));
      assertEquals(FAULTS, m.getInteger("retried"));
      int results = 0;
      boolean requeued = false;
      do {
        m = ws.next();
        results += "result".equals(m.getString("type")) ? 1 : 0;
        requeued |= "requeued".equals(m.getString("type"));
      } while (!"job_done".equals(m.getString("type")));
      assertTrue(requeued, "subscribers learn which items went back to the queue");
      assertEquals("done", m.getString("status"), m.encode());
      assertEquals(FAULTS, results, "the retried images' results come on the socket");

      ws.send(new JsonObject().put("type", "retry").put("ref", "r2").put("jobId", id));
      m = ws.next();
      assertEquals("error", m.getString("type"));
      assertEquals("nothing_to_retry", m.getString("code"));
      ws.send(new JsonObject().put("type", "retry").put("jobId", "nope"));
      assertEquals("job_not_found", ws.next().getString("code"));
      ws.ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
    }
  }

  @Test
  void keepInputsKeepsThemUntilTheJobIsDeleted() throws Exception {
    try (TestServer s = server(null, true)) {
      HttpResponse<byte[]> created = post(s, "/api/v1/jobs", Multiparts.images(pngs(2)));
      String id = new JsonObject(new String(created.body())).getString("id");
      assertEquals(2, finished(s, id).getInteger("done"));
      assertEquals(List.of("0.input", "1.input"), inputs(id));
      assertEquals(204, http.send(HttpRequest.newBuilder(s.uri("/api/v1/jobs/" + id)).DELETE().build(),
          HttpResponse.BodyHandlers.ofByteArray()).statusCode());
      assertFalse(Files.exists(outputs.resolve(id)), "removed with the job");
    }
  }

  @Test
  void inputsOfRunningJobsCountAgainstTheStorageBudget() throws Exception {
    TinyModel.write(models, "tiny");
    try (TestServer s = TestServer.start(models, "tiny", null, cfg ->
        cfg.getJsonObject("jobs").put("outputsDir", outputs.toString()).put("maxTotalBytes", 100))) {
      HttpResponse<byte[]> r = post(s, "/api/v1/jobs", Multiparts.images(pngs(2)));
      assertEquals(507, r.statusCode(), new String(r.body()));
      assertEquals("storage_full", MatteApiTestAccess.code(r));
      try (Stream<Path> staged = Files.walk(outputs.resolve(".incoming"))) {
        assertTrue(staged.noneMatch(Files::isRegularFile), "a refused job leaves nothing behind");
      }
      assertEquals(0, new JsonObject(new String(s.get("/api/v1/jobs").body())).getJsonArray("jobs").size());
    }
  }

  @Test
  void aStartResumesWhatHasItsInputFailsWhatLostItAndDropsWhatACrashLeftBehind() throws Exception {
    // as a crash leaves it: item 0 done (its input not yet deleted), 1 inferring, 2 queued but its input gone
    JobStore store = JobStore.create(outputs);
    JobInputs in = store.stage(3);
    JsonArray items = new JsonArray();
    List<byte[]> pngs = pngs(3);
    String[] stages = {"done", "inferring", "queued"};
    for (int i = 0; i < 3; i++) {
      in.add("c" + i + ".png", pngs.get(i));
      items.add(new JsonObject().put("index", i).put("name", "c" + i + ".png").put("stage", stages[i]));
    }
    items.getJsonObject(0).put("file", "0.png").put("contentType", "image/png").put("width", 30).put("height", 30);
    String id = in.jobId();
    store.commit(in, new JsonObject().put("id", id).put("createdAt", System.currentTimeMillis()).put("status", "running")
        .put("output", "rgba").put("format", "png").put("options", OutputOptions.DEFAULT.canonical())
        .put("outputOptions", StoredOptions.toJson(OutputOptions.DEFAULT)).put("withMatte", false).put("model", "tiny")
        .put("source", "http").put("client", "test").put("total", 3).put("done", 1).put("failed", 0).put("items", items));
    store.writeResult(id, "0.png", pngs.get(0));
    store.deleteInput(id, 2);

    try (TestServer s = server(null, false)) {
      JsonObject job = finished(s, id);
      assertEquals("done", job.getJsonArray("items").getJsonObject(1).getString("stage"), job.encode());
      JsonObject lost = job.getJsonArray("items").getJsonObject(2);
      assertEquals("failed", lost.getString("stage"));
      assertEquals("input_missing", lost.getString("code"));
      assertFalse(lost.getBoolean("retryable"));
      assertEquals("partial", job.getString("status"));
      long deadline = System.currentTimeMillis() + WAIT_MS;
      while (!inputs(id).isEmpty() && System.currentTimeMillis() < deadline) {
        Thread.sleep(20);
      }
      assertEquals(List.of(), inputs(id), "the done item's leftover input is deleted at start, the resumed one's when done");
    }
  }
}
