package io.unimatte.jobs;

import io.unimatte.jobs.impl.FileJobStore;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Batch jobs on disk: one folder per job with {@code job.json} (items, stages, codes) and the
 * result files, so the history survives a restart. All methods block on file I/O: call them from
 * a worker thread, never an event loop.
 */
public interface JobStore {

  /** A store under {@code root} (created when missing). */
  static JobStore create(Path root) throws IOException {
    return new FileJobStore(root);
  }

  /** Every job found on disk, newest first; unreadable folders are skipped with a log line. */
  List<JsonObject> loadAll();

  /** Writes {@code job.json} atomically (a reader never sees half a file). */
  void save(JsonObject job) throws IOException;

  /** Stores one result file, e.g. {@code 3.png} or {@code 3.alpha.png}; returns its path. */
  Path writeResult(String jobId, String fileName, byte[] bytes) throws IOException;

  /** Path of a stored result (it may not exist). */
  Path resultPath(String jobId, String fileName);

  /** Deletes a job and its files; false when there was none. */
  boolean delete(String jobId) throws IOException;

  /**
   * Retention: deletes jobs older than {@code maxAge}, then the oldest until the store holds at
   * most {@code maxBytes}. Jobs listed in {@code keep} (still running) are never deleted.
   *
   * @return ids of the deleted jobs
   */
  List<String> cleanup(Duration maxAge, long maxBytes, java.util.Set<String> keep, long nowMillis) throws IOException;

  /** True for ids this store issues (UUIDs): anything else never touches the file system. */
  static boolean isValidId(String id) {
    return id != null && id.matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  }
}
