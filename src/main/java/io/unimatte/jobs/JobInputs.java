package io.unimatte.jobs;

import io.unimatte.error.ErrorCode;

import java.io.IOException;
import java.io.OutputStream;
import java.util.List;

/**
 * The images of a job being created, written to disk (one file each, synced) before the job
 * exists. They are staged apart from the jobs until {@link JobStore#commit} moves them into the
 * job's folder together with its record; a crash before that leaves no job at all, and the next
 * start deletes what was staged. Methods block on file I/O: call them from a worker thread.
 */
public interface JobInputs {

  /** The id the job will have once committed. */
  String jobId();

  /**
   * Opens the next input (its index is the number added before it); closing the stream syncs the
   * file. Fails with {@code too_many_items} past the job size limit, before writing anything.
   */
  OutputStream add(String name) throws IOException;

  /** Adds one input from memory. */
  default void add(String name, byte[] data) throws IOException {
    try (OutputStream out = add(name)) {
      out.write(data);
    }
  }

  /**
   * Deletes the input opened last (its stream closed first): an entry found too large while it was
   * being written. Its index goes to the next input.
   */
  void removeLast() throws IOException;

  /** An entry of the upload that was left out of the job: its name and the error code saying why. */
  record Skipped(String name, String code) {
  }

  /** Records that an entry was left out; every one is counted, the first {@link #LISTED_SKIPS} are kept by name. */
  void skip(String name, ErrorCode reason);

  /** How many entries were left out. */
  int skippedCount();

  /** The first {@link #LISTED_SKIPS} entries left out, in order. */
  List<Skipped> skipped();

  /** Skipped entries listed by name (the rest are only counted: a zip may hold thousands). */
  int LISTED_SKIPS = 20;

  /** The file names of the inputs, in order. */
  List<String> names();

  /** Bytes written so far. */
  long bytes();

  /** Deletes what was staged; does nothing once committed or already discarded. */
  void discard();
}
