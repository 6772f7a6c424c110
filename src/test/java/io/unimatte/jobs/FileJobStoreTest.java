package io.unimatte.jobs;

import io.unimatte.imaging.output.OutputOptions;
import io.unimatte.jobs.impl.StoredOptions;
import io.unimatte.error.CodedException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The on-disk jobs: staged inputs that exist only once committed, crash recovery (temp files,
 * uncommitted uploads, unreadable records quarantined), retention by age and by bytes, path safety.
 */
class FileJobStoreTest {
  private static final long HOUR = Duration.ofHours(1).toMillis();
  @TempDir
  Path root;

  private static JsonObject job(long createdAt, String stage) {
    return new JsonObject().put("id", UUID.randomUUID().toString()).put("createdAt", createdAt)
        .put("items", new JsonArray().add(new JsonObject().put("index", 0).put("name", "a.png").put("stage", stage)));
  }

  @Test
  void retentionDeletesOldJobsThenTheOldestOverTheByteBudget() throws Exception {
    JobStore store = JobStore.create(root);
    long now = 100 * HOUR;
    JsonObject ancient = job(now - 50 * HOUR, "done");
    JsonObject old = job(now - 3 * HOUR, "done");
    JsonObject recent = job(now - 2 * HOUR, "done");
    JsonObject newest = job(now - HOUR, "done");
    JsonObject running = job(now - 60 * HOUR, "inferring");
    for (JsonObject j : List.of(ancient, old, recent, newest, running)) {
      commit(store, j);
      store.writeResult(j.getString("id"), "0.png", new byte[10_000]);
    }
    Set<String> finished = Set.of(ancient.getString("id"), old.getString("id"), recent.getString("id"),
        newest.getString("id"));
    List<String> deleted = store.cleanup(Duration.ofHours(24), 35_000, finished, now);
    // ancient: too old; then over 35 kB the oldest kept one (old) goes; running jobs are never touched
    assertTrue(deleted.contains(ancient.getString("id")));
    assertTrue(deleted.contains(old.getString("id")));
    assertFalse(deleted.contains(running.getString("id")));
    assertFalse(deleted.contains(newest.getString("id")));
    assertFalse(Files.exists(root.resolve(ancient.getString("id"))));
    assertEquals(3, store.loadAll().size());
  }

  @Test
  void retentionNeverDeletesAJobThatWasNotFinishedWhenItWasAskedToRun() throws Exception {
    JobStore store = JobStore.create(root);
    long now = 100 * HOUR;
    JsonObject done = job(now - 50 * HOUR, "done");
    commit(store, done);
    store.writeResult(done.getString("id"), "0.png", new byte[10_000]);
    Set<String> finishedThen = Set.of(done.getString("id"));
    // committed after the verticle listed the finished jobs, before the store is scanned
    JsonObject created = job(now, "queued");
    commit(store, created);
    store.writeResult(created.getString("id"), "0.png", new byte[10_000]);
    List<String> deleted = store.cleanup(Duration.ofHours(24), 1, finishedThen, now);
    assertEquals(List.of(done.getString("id")), deleted, "over the budget, yet the new job stays");
    assertTrue(Files.exists(root.resolve(created.getString("id")).resolve("job.json")));
  }

  @Test
  void anEntryFoundTooLargeIsRemovedAndSkippedEntriesAreCounted() throws Exception {
    JobStore store = JobStore.create(root);
    JobInputs in = store.stage(3);
    in.add("a.png", new byte[3]);
    try (var out = in.add("huge.png")) {
      out.write(new byte[50]);
    }
    in.removeLast();
    in.add("b.png", new byte[4]);
    assertEquals(List.of("a.png", "b.png"), in.names());
    assertEquals(7, in.bytes());
    for (int i = 0; i < JobInputs.LISTED_SKIPS + 5; i++) {
      in.skip("n" + i + ".txt", io.unimatte.error.ErrorCode.UNSUPPORTED_FORMAT);
    }
    assertEquals(JobInputs.LISTED_SKIPS + 5, in.skippedCount());
    assertEquals(JobInputs.LISTED_SKIPS, in.skipped().size(), "the first few by name, the rest counted");
    assertEquals(new JobInputs.Skipped("n0.txt", "unsupported_format"), in.skipped().get(0));
    store.commit(in, record(in.jobId(), 2));
    assertArrayEquals(new byte[4], store.readInput(in.jobId(), 1), "b.png took the removed entry's place");
    assertEquals(List.of(0, 1), store.storedInputs(in.jobId()));
  }

  @Test
  void unfinishedItemsWithTheirInputQueueAgainTheOthersFailWithACode() {
    JsonObject j = job(1, "inferring");
    JsonArray items = j.getJsonArray("items");
    items.add(new JsonObject().put("index", 1).put("name", "b.png").put("stage", "done"));
    items.add(new JsonObject().put("index", 2).put("name", "c.png").put("stage", "queued"));
    items.add(new JsonObject().put("index", 3).put("name", "d.png").put("stage", "decoded"));
    // the input of item 2 is gone
    assertEquals(List.of(0, 3), JobsVerticle.resumable(j, index -> index != 2));
    assertEquals("queued", items.getJsonObject(0).getString("stage"));
    assertEquals("done", items.getJsonObject(1).getString("stage"));
    assertEquals("failed", items.getJsonObject(2).getString("stage"));
    assertEquals(JobsVerticle.INPUT_MISSING, items.getJsonObject(2).getString("code"));
    assertFalse(items.getJsonObject(2).getBoolean("retryable"));
    assertEquals("queued", items.getJsonObject(3).getString("stage"));
    assertEquals("running", j.getString("status"));
    assertEquals(1, j.getInteger("done"));
    assertEquals(1, j.getInteger("failed"));
    assertEquals(List.of(0, 3), JobsVerticle.resumable(j, index -> true), "still queued: queued again");
  }

  @Test
  void idsAndFileNamesCannotEscapeTheStore() throws Exception {
    JobStore store = JobStore.create(root);
    assertThrows(IllegalArgumentException.class, () -> store.resultPath("../../etc", "0.png"));
    assertThrows(IllegalArgumentException.class, () -> store.resultPath(UUID.randomUUID().toString(), "../x.png"));
    assertFalse(JobStore.isValidId("..%2F"));
  }

  /** Creates {@code job} in the store as the API does (its id becomes the staging's). */
  private static void commit(JobStore store, JsonObject job) throws Exception {
    JobInputs in = store.stage(job.getJsonArray("items").size());
    job.put("id", in.jobId());
    store.commit(in, job);
  }

  private static JsonObject record(String id, int items) {
    JsonArray list = new JsonArray();
    for (int i = 0; i < items; i++) {
      list.add(new JsonObject().put("index", i).put("name", i + ".png").put("stage", "queued"));
    }
    return new JsonObject().put("id", id).put("createdAt", 1L).put("items", list);
  }

  @Test
  void aStagedJobExistsOnlyOnceCommittedWithItsInputs() throws Exception {
    JobStore store = JobStore.create(root);
    JobInputs in = store.stage(2);
    in.add("a.png", new byte[] {1, 2, 3});
    in.add("b.png", new byte[] {4});
    assertEquals(List.of("a.png", "b.png"), in.names());
    assertEquals(4, in.bytes());
    CodedException tooMany = assertThrows(CodedException.class, () -> in.add("c.png", new byte[1]));
    assertEquals("too_many_items", tooMany.code());
    assertTrue(store.loadAll().isEmpty(), "not a job before the commit");
    store.commit(in, record(in.jobId(), 2));
    assertEquals(1, store.loadAll().size());
    assertTrue(store.hasInput(in.jobId(), 0));
    assertArrayEquals(new byte[] {4}, store.readInput(in.jobId(), 1));
    store.deleteInput(in.jobId(), 0);
    assertFalse(store.hasInput(in.jobId(), 0));
    in.discard(); // after the commit: nothing happens
    assertTrue(store.hasInput(in.jobId(), 1));

    JobInputs dropped = store.stage(2);
    dropped.add("x.png", new byte[10]);
    dropped.discard();
    assertFalse(Files.exists(root.resolve(".incoming").resolve(dropped.jobId())));
  }

  @Test
  void recoveryDeletesUncommittedUploadsAndTempFilesAndKeepsJobs() throws Exception {
    JobStore store = JobStore.create(root);
    JobInputs half = store.stage(10); // a crash during an upload: never committed
    half.add("a.png", new byte[100]);
    JobInputs whole = store.stage(10);
    whole.add("b.png", new byte[100]);
    store.commit(whole, record(whole.jobId(), 1));
    String id = whole.jobId();
    store.writeResult(id, "0.png", new byte[5]);
    // a crash between writing a temporary file and renaming it
    Files.write(root.resolve(id).resolve("job.json123.tmp"), new byte[7]);
    Files.write(root.resolve(id).resolve("items").resolve("0.png456.tmp"), new byte[7]);

    List<JsonObject> jobs = JobStore.create(root).recover();
    assertEquals(List.of(id), jobs.stream().map(j -> j.getString("id")).toList());
    assertFalse(Files.exists(root.resolve(".incoming").resolve(half.jobId())), "uncommitted upload deleted");
    try (var files = Files.walk(root)) {
      assertTrue(files.noneMatch(p -> p.toString().endsWith(".tmp")), "temp files deleted");
    }
    assertTrue(store.hasInput(id, 0));
    assertTrue(Files.exists(store.resultPath(id, "0.png")));
  }

  @Test
  void anUnreadableRecordIsReportedOnceAndQuarantined() throws Exception {
    JobStore store = JobStore.create(root);
    String broken = UUID.randomUUID().toString();
    Files.createDirectories(root.resolve(broken).resolve("inputs"));
    Files.writeString(root.resolve(broken).resolve("job.json"), "{\"id\": \"" + broken + "\", \"items\": [",
        StandardCharsets.UTF_8);
    String noRecord = UUID.randomUUID().toString();
    Files.createDirectories(root.resolve(noRecord).resolve("items"));
    commit(store, job(5, "done"));

    List<String> lines = new ArrayList<>();
    Handler h = new Handler() {
      @Override
      public void publish(LogRecord r) {
        lines.add(r.getMessage());
      }

      @Override
      public void flush() {
      }

      @Override
      public void close() {
      }
    };
    Logger log = Logger.getLogger(io.unimatte.jobs.impl.FileJobStore.class.getName());
    log.addHandler(h);
    try {
      assertEquals(1, store.recover().size());
      assertEquals(1, store.loadAll().size());
    } finally {
      log.removeHandler(h);
    }
    for (String id : List.of(broken, noRecord)) {
      assertEquals(1, lines.stream().filter(l -> l.startsWith("event=job_unreadable job=" + id)).count(), lines.toString());
      assertFalse(Files.exists(root.resolve(id)));
      assertTrue(Files.isDirectory(root.resolve(".quarantine").resolve(id)), "kept aside for a person to look at");
    }
  }

  @Test
  void aDeletedJobStaysDeleted() throws Exception {
    JobStore store = JobStore.create(root);
    JobInputs in = store.stage(1);
    in.add("a.png", new byte[1]);
    JsonObject j = record(in.jobId(), 1);
    store.commit(in, j);
    assertTrue(store.delete(in.jobId()));
    assertFalse(Files.exists(root.resolve(in.jobId())));
    // a save or a result that was already on its way must not bring the folder back
    assertThrows(java.io.IOException.class, () -> store.save(j));
    assertThrows(java.io.IOException.class, () -> store.writeResult(in.jobId(), "0.png", new byte[1]));
    assertFalse(Files.exists(root.resolve(in.jobId())));
    assertFalse(store.delete(in.jobId()));
  }

  @Test
  void storedOptionsReadBackTheSame() {
    for (Map<String, String> p : List.of(Map.<String, String>of(), Map.of("output", "alpha", "size", "preview"),
        Map.of("format", "jpg", "bg", "00ff0080", "crop", "true", "crop_margin", "10%", "quality", "70",
            "refine", "false", "colour", "true"), Map.of("size", "100x80", "crop_margin", "20"))) {
      OutputOptions o = OutputOptions.parse(p);
      assertEquals(o, StoredOptions.fromJson(new JsonObject(StoredOptions.toJson(o).encode())), p.toString());
    }
  }
}
