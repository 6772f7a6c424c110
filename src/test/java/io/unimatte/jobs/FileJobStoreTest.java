package io.unimatte.jobs;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The on-disk job history: retention by age and by bytes, restart recovery, path safety. */
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
      store.save(j);
      store.writeResult(j.getString("id"), "0.png", new byte[10_000]);
    }
    List<String> deleted = store.cleanup(Duration.ofHours(24), 35_000, Set.of(running.getString("id")), now);
    // ancient: too old; then over 35 kB the oldest kept one (old) goes; running jobs are never touched
    assertTrue(deleted.contains(ancient.getString("id")));
    assertTrue(deleted.contains(old.getString("id")));
    assertFalse(deleted.contains(running.getString("id")));
    assertFalse(deleted.contains(newest.getString("id")));
    assertFalse(Files.exists(root.resolve(ancient.getString("id"))));
    assertEquals(3, store.loadAll().size());
  }

  @Test
  void restartMarksUnfinishedItemsInterruptedAndRetryable() throws Exception {
    JsonObject j = job(1, "inferring");
    j.getJsonArray("items").add(new JsonObject().put("index", 1).put("name", "b.png").put("stage", "done"));
    assertTrue(JobsVerticle.markInterrupted(j));
    JsonObject first = j.getJsonArray("items").getJsonObject(0);
    assertEquals("failed", first.getString("stage"));
    assertEquals("interrupted", first.getString("code"));
    assertTrue(first.getBoolean("retryable"));
    assertEquals("done", j.getJsonArray("items").getJsonObject(1).getString("stage"));
    assertEquals("partial", j.getString("status"));
    assertFalse(JobsVerticle.markInterrupted(j), "nothing left to mark");
  }

  @Test
  void idsAndFileNamesCannotEscapeTheStore() throws Exception {
    JobStore store = JobStore.create(root);
    assertThrows(IllegalArgumentException.class, () -> store.resultPath("../../etc", "0.png"));
    assertThrows(IllegalArgumentException.class, () -> store.resultPath(UUID.randomUUID().toString(), "../x.png"));
    assertFalse(JobStore.isValidId("..%2F"));
  }
}
