package io.unimatte.jobs;

import io.unimatte.jobs.impl.FileJobStore;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Batch jobs on disk: one folder per job with {@code job.json} (items, stages, codes), the inputs
 * not yet done and the result files, so jobs survive a restart or a crash. Every file is written
 * to a temporary name, synced and renamed into place: a reader never sees half a file. All methods
 * block on file I/O: call them from a worker thread, never an event loop.
 */
public interface JobStore {

  /** A store under {@code root} (created when missing). */
  static JobStore create(Path root) throws IOException {
    return new FileJobStore(root);
  }

  /**
   * Start-of-process recovery, before anything is staged: deletes temporary files, uploads that
   * were never committed and half-deleted jobs; moves aside (quarantines) every job folder whose
   * record cannot be read, with one {@code event=job_unreadable} line each.
   *
   * @return every readable job, newest first
   */
  List<JsonObject> recover() throws IOException;

  /** Every job found on disk, newest first; an unreadable record is reported and quarantined. */
  List<JsonObject> loadAll();

  /**
   * Begins a new job: its inputs are written apart until {@link #commit}.
   *
   * @param maxItems most inputs the job may have ({@code too_many_items} past it)
   */
  JobInputs stage(int maxItems) throws IOException;

  /**
   * Makes a staged job exist: writes its record beside the inputs, then moves both into place in
   * one atomic rename (synced). From here on the job survives any crash.
   */
  void commit(JobInputs inputs, JsonObject job) throws IOException;

  /** Rewrites {@code job.json} atomically and durably; fails when the job's folder is gone (deleted). */
  void save(JsonObject job) throws IOException;

  /** Indexes of the items whose input is on disk, in order (one listing: cheap for a whole history). */
  List<Integer> storedInputs(String jobId) throws IOException;

  /** Whether the input of item {@code index} is still on disk. */
  boolean hasInput(String jobId, int index);

  /** The input of item {@code index}. */
  byte[] readInput(String jobId, int index) throws IOException;

  /** Deletes the input of item {@code index} (nothing when it is already gone). */
  void deleteInput(String jobId, int index) throws IOException;

  /** Stores one result file durably, e.g. {@code 3.png} or {@code 3.alpha.png}; returns its path. */
  Path writeResult(String jobId, String fileName, byte[] bytes) throws IOException;

  /** Path of a stored result (it may not exist). */
  Path resultPath(String jobId, String fileName);

  /** Deletes a job and its files (atomically first moved aside); false when there was none. */
  boolean delete(String jobId) throws IOException;

  /**
   * Retention: deletes jobs older than {@code maxAge}, then the oldest until the store holds at
   * most {@code maxBytes} (inputs, records and results all count). Only jobs listed in
   * {@code deletable} (finished when the caller looked) are deleted: a job created or started again
   * while this runs is counted, never deleted.
   *
   * @return ids of the deleted jobs
   */
  List<String> cleanup(Duration maxAge, long maxBytes, java.util.Set<String> deletable, long nowMillis)
      throws IOException;

  /** True for ids this store issues (UUIDs): anything else never touches the file system. */
  static boolean isValidId(String id) {
    return id != null && id.matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  }
}
