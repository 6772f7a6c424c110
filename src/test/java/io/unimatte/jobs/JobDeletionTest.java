package io.unimatte.jobs;

import io.unimatte.api.MatteApiTestAccess;
import io.unimatte.testing.Multiparts;
import io.unimatte.testing.TestServer;
import io.unimatte.testing.TestSessions;
import io.unimatte.testing.TinyModel;
import io.unimatte.imaging.output.OutputOptions;
import io.unimatte.jobs.impl.StoredOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jobs leave for good: a job deleted while its images run does not come back after a restart (its
 * in-flight image is dropped, its files are gone), and a job started again while retention
 * deletes it leaves no ghost in the running set (which failed every later job creation).
 */
class JobDeletionTest {
  private static final long WAIT_MS = 30_000;
  /** Longer than any answer may take: past it the server gave no answer. */
  private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(10);
  /** Old jobs for retention to delete: seconds of work, during which a request comes in. */
  private static final int OLD_JOBS = 400;
  private static final int RESULT_BYTES = 100;
  /** Time for the event loop to take in the cleanup's result once the folders are gone. */
  private static final long CLEANUP_SETTLE_MS = 500;
  @TempDir
  Path models;
  @TempDir
  Path outputs;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private HttpResponse<byte[]> postJob(TestServer s, int... widths) throws Exception {
    List<byte[]> images = new ArrayList<>();
    for (int w : widths) {
      images.add(MatteApiTestAccess.png(w));
    }
    Multiparts.Body body = Multiparts.images(images);
    return http.send(HttpRequest.newBuilder(s.uri("/api/v1/jobs")).timeout(ANSWER_TIMEOUT)
        .header("Content-Type", body.contentType()).POST(HttpRequest.BodyPublishers.ofByteArray(body.bytes())).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  private static JsonObject json(HttpResponse<byte[]> r) {
    return new JsonObject(new String(r.body()));
  }

  private static JsonObject waitFor(TestServer s, String id, String status) throws Exception {
    long deadline = System.currentTimeMillis() + WAIT_MS;
    while (true) {
      JsonObject job = json(s.get("/api/v1/jobs/" + id));
      if (status.equals(job.getString("status"))) {
        return job;
      }
      assertTrue(System.currentTimeMillis() < deadline, job.encode());
      Thread.sleep(20);
    }
  }

  private static List<String> entries(Path dir) throws Exception {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void aJobDeletedWhileRunningDoesNotComeBackAfterARestart() throws Exception {
    Path dir = TinyModel.write(models, "tiny");
    CountDownLatch gate = new CountDownLatch(1);
    String deleted;
    String kept;
    java.util.function.Consumer<JsonObject> config = cfg -> {
      cfg.getJsonObject("jobs").put("outputsDir", outputs.toString()).put("maxInFlight", 1);
      cfg.getJsonObject("inference").put("maxBatchSize", 1).put("warmupRuns", 0);
    };
    try (TestServer s = TestServer.start(models, "tiny", TestSessions.slowTinyModel(dir, 0, gate), config)) {
      HttpResponse<byte[]> created = postJob(s, 30, 31, 32);
      assertEquals(202, created.statusCode(), new String(created.body()));
      deleted = json(created).getString("id");
      // its first image is held in the model; the others wait on disk
      long deadline = System.currentTimeMillis() + WAIT_MS;
      while (!"inferring".equals(json(s.get("/api/v1/jobs/" + deleted)).getJsonArray("items").getJsonObject(0)
          .getString("stage"))) {
        assertTrue(System.currentTimeMillis() < deadline, "item 0 never reached the model");
        Thread.sleep(20);
      }
      HttpResponse<byte[]> gone = http.send(HttpRequest.newBuilder(s.uri("/api/v1/jobs/" + deleted)).DELETE().build(),
          HttpResponse.BodyHandlers.ofByteArray());
      assertEquals(204, gone.statusCode());
      assertFalse(Files.exists(outputs.resolve(deleted)), "its files are gone at once");
      // the image in flight comes back from the model now; the next job runs only after it (one in flight)
      HttpResponse<byte[]> next = postJob(s, 40);
      kept = json(next).getString("id");
      gate.countDown();
      waitFor(s, kept, "done");
      assertEquals(404, s.get("/api/v1/jobs/" + deleted).statusCode());
      assertFalse(Files.exists(outputs.resolve(deleted)), "the late result did not bring the folder back");
    }
    assertEquals(List.of(kept), entries(outputs).stream().filter(JobStore::isValidId).toList());
    assertEquals(List.of(), entries(outputs.resolve(".trash")));
    assertEquals(List.of(), entries(outputs.resolve(".quarantine")), "no half folder left to quarantine");

    try (TestServer s = TestServer.start(models, "tiny", TestSessions.slowTinyModel(dir, 0, new CountDownLatch(0)),
        config)) {
      assertEquals(404, s.get("/api/v1/jobs/" + deleted).statusCode(), "not back after the restart");
      List<String> listed = new ArrayList<>();
      json(s.get("/api/v1/jobs")).getJsonArray("jobs").forEach(j -> listed.add(((JsonObject) j).getString("id")));
      assertEquals(List.of(kept), listed);
      assertFalse(Files.exists(outputs.resolve(deleted)));
    }
  }

  /** An old finished job, written straight to disk (no sync: thousands of them). */
  private void oldJob(long createdAt, JsonObject item, byte[] input) throws Exception {
    String id = java.util.UUID.randomUUID().toString();
    Path d = outputs.resolve(id);
    Files.createDirectories(d.resolve("items"));
    Files.createDirectories(d.resolve("inputs"));
    if (input != null) {
      Files.write(d.resolve("inputs").resolve("0.input"), input);
    }
    Files.writeString(d.resolve("job.json"), new JsonObject().put("id", id).put("createdAt", createdAt)
        .put("status", item.getString("stage").equals("done") ? "done" : "failed").put("output", "rgba")
        .put("format", "png").put("options", OutputOptions.DEFAULT.canonical())
        .put("outputOptions", StoredOptions.toJson(OutputOptions.DEFAULT)).put("withMatte", false).put("model", "tiny")
        .put("source", "http").put("client", "test").put("total", 1)
        .put("items", new JsonArray().add(item.put("index", 0))).encode());
    if (item.getString("stage").equals("done")) {
      Files.write(d.resolve("items").resolve("0.png"), new byte[RESULT_BYTES]);
    }
  }

  private long jobFolders() throws Exception {
    return entries(outputs).stream().filter(JobStore::isValidId).count();
  }

  @Test
  void aJobStartedAgainWhileRetentionDeletesItLeavesNoGhostBehind() throws Exception {
    Path dir = TinyModel.write(models, "tiny");
    long now = System.currentTimeMillis();
    long day = Duration.ofDays(1).toMillis();
    // the oldest job (deleted last, seconds into the cleanup) has a retryable failed image
    oldJob(now - 3 * day, new JsonObject().put("name", "a.png").put("stage", "failed").put("code", "inference_failed")
        .put("message", "injected").put("retryable", true), MatteApiTestAccess.png(30));
    String target = entries(outputs).get(0);
    for (int i = 0; i < OLD_JOBS; i++) {
      oldJob(now - 2 * day, new JsonObject().put("name", "b.png").put("stage", "done").put("file", "0.png"), null);
    }
    // the model holds every image: the retried job is still running when retention is done
    CountDownLatch gate = new CountDownLatch(1);
    try (TestServer s = TestServer.start(models, "tiny", TestSessions.slowTinyModel(dir, 0, gate), cfg -> {
      cfg.getJsonObject("jobs").put("outputsDir", outputs.toString()).put("cleanupIntervalSeconds", 1)
          .put("maxAgeHours", 24);
      cfg.getJsonObject("inference").put("maxBatchSize", 1).put("warmupRuns", 0);
    })) {
      long deadline = System.currentTimeMillis() + WAIT_MS;
      while (jobFolders() > OLD_JOBS) { // retention has begun deleting (newest first: the target is last)
        assertTrue(System.currentTimeMillis() < deadline, "retention never ran");
        Thread.sleep(5);
      }
      HttpResponse<byte[]> retried = http.send(HttpRequest.newBuilder(s.uri("/api/v1/jobs/" + target + "/retry"))
          .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofByteArray());
      assertEquals(202, retried.statusCode(), "retried before retention reached it: " + new String(retried.body()));
      while (jobFolders() > 0) {
        assertTrue(System.currentTimeMillis() < deadline, "retention did not finish");
        Thread.sleep(20);
      }
      // retention took it all the same (it was old and finished when retention looked); no ghost stays running
      Thread.sleep(CLEANUP_SETTLE_MS);
      HttpResponse<byte[]> next = postJob(s, 40);
      assertEquals(202, next.statusCode(), "a new job is accepted at once: " + new String(next.body()));
      gate.countDown();
      waitFor(s, json(next).getString("id"), "done");
      HttpResponse<byte[]> again = postJob(s, 41);
      assertEquals(202, again.statusCode(), new String(again.body()));
    }
  }
}
