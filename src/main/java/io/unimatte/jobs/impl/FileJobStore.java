package io.unimatte.jobs.impl;

import io.unimatte.jobs.JobInputs;
import io.unimatte.jobs.JobStore;
import io.unimatte.error.CodedException;
import io.unimatte.error.ErrorCode;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * {@link JobStore} in folders: {@code root/<jobId>/job.json}, {@code root/<jobId>/inputs/<n>.input}
 * and {@code root/<jobId>/items/*}. Beside the jobs, {@code .incoming/} holds uploads being staged,
 * {@code .trash/} jobs being deleted and {@code .quarantine/} folders whose record could not be read.
 *
 * <p>Longer than most files on purpose: every step that makes the store crash-safe (staging, fsync,
 * rename, trash, quarantine) is here, so the ordering that makes them safe can be read in one place.
 */
public final class FileJobStore implements JobStore {
  private static final Logger LOG = Logger.getLogger(FileJobStore.class.getName());
  private static final String JOB_FILE = "job.json";
  private static final String ITEMS = "items";
  private static final String INPUTS = "inputs";
  private static final String INPUT_SUFFIX = ".input";
  private static final java.util.regex.Pattern INPUT_NAME =
      java.util.regex.Pattern.compile("[0-9]+" + java.util.regex.Pattern.quote(INPUT_SUFFIX));
  private static final String TMP_SUFFIX = ".tmp";
  /** Longest error text a log line carries. */
  private static final int MAX_ERROR_CHARS = 160;
  /** Staged uploads: deleted whole at start (nothing there was ever acknowledged). */
  static final String INCOMING = ".incoming";
  /** Jobs moved here to be deleted, so a crash mid-delete leaves no half job behind. */
  static final String TRASH = ".trash";
  /** Folders whose record could not be read, kept for a person to look at. */
  static final String QUARANTINE = ".quarantine";

  private final Path root;

  public FileJobStore(Path root) throws IOException {
    this.root = root;
    Files.createDirectories(root);
  }

  private Path dir(String jobId) {
    if (!JobStore.isValidId(jobId)) {
      throw new IllegalArgumentException("invalid job id");
    }
    return root.resolve(jobId);
  }

  // ---------------------------------------------------------------- loading and recovery

  @Override
  public List<JsonObject> recover() throws IOException {
    int staged = deleteTree(root.resolve(INCOMING));
    int trashed = deleteTree(root.resolve(TRASH));
    int temps = 0;
    try (Stream<Path> dirs = Files.list(root)) {
      for (Path d : dirs.filter(p -> Files.isDirectory(p) && JobStore.isValidId(p.getFileName().toString())).toList()) {
        temps += deleteTempFiles(d);
      }
    }
    if (staged + trashed + temps > 0) {
      LOG.info("event=job_store_recovered uncommittedFiles=" + staged + " trashFiles=" + trashed
          + " tempFiles=" + temps);
    }
    return loadAll();
  }

  private static int deleteTempFiles(Path jobDir) throws IOException {
    try (Stream<Path> s = Files.walk(jobDir)) {
      int n = 0;
      for (Path p : s.filter(p -> p.getFileName().toString().endsWith(TMP_SUFFIX) && Files.isRegularFile(p)).toList()) {
        Files.deleteIfExists(p);
        n++;
      }
      return n;
    }
  }

  @Override
  public List<JsonObject> loadAll() {
    List<JsonObject> jobs = new ArrayList<>();
    try (Stream<Path> dirs = Files.list(root)) {
      for (Path d : dirs.filter(Files::isDirectory).toList()) {
        String id = d.getFileName().toString();
        if (!JobStore.isValidId(id)) {
          continue; // .incoming, .trash, .quarantine and anything not ours
        }
        try {
          jobs.add(read(d, id));
        } catch (IOException | RuntimeException e) {
          if (Files.isDirectory(d)) { // else deleted meanwhile: nothing to report
            quarantine(d, id, e);
          }
        }
      }
    } catch (IOException e) {
      LOG.warning("event=job_store_unreadable root=" + root + " error=" + e.getMessage());
    }
    jobs.sort(Comparator.comparingLong((JsonObject j) -> j.getLong("createdAt", 0L)).reversed());
    return jobs;
  }

  private static JsonObject read(Path d, String id) throws IOException {
    JsonObject job = new JsonObject(Files.readString(d.resolve(JOB_FILE)));
    if (!id.equals(job.getString("id")) || job.getJsonArray("items") == null) {
      throw new IOException("the record is not this folder's job (id " + job.getString("id") + ")");
    }
    return job;
  }

  /** Moves an unreadable job folder aside and says so once; it is never loaded again. */
  private void quarantine(Path d, String id, Exception cause) {
    String error = cause instanceof NoSuchFileException ? "no " + JOB_FILE : oneLine(String.valueOf(cause.getMessage()));
    try {
      Path q = root.resolve(QUARANTINE);
      Files.createDirectories(q);
      Path target = q.resolve(id);
      if (Files.exists(target)) {
        target = q.resolve(id + "-" + System.currentTimeMillis());
      }
      Files.move(d, target, StandardCopyOption.ATOMIC_MOVE);
      syncDir(root);
      LOG.warning("event=job_unreadable job=" + id + " error=\"" + error + "\" movedTo=" + target);
    } catch (IOException e) {
      LOG.warning("event=job_unreadable job=" + id + " error=\"" + error + "\" quarantineFailed=\""
          + oneLine(String.valueOf(e.getMessage())) + "\"");
    }
  }

  /** A parser's message as one short log field: its first line, without quotes. */
  private static String oneLine(String message) {
    String first = message.lines().findFirst().orElse("").replace('"', '\'');
    return first.length() > MAX_ERROR_CHARS ? first.substring(0, MAX_ERROR_CHARS) + "…" : first;
  }

  // ---------------------------------------------------------------- creating and saving

  @Override
  public JobInputs stage(int maxItems) throws IOException {
    String id = UUID.randomUUID().toString();
    Path d = root.resolve(INCOMING).resolve(id);
    Files.createDirectories(d.resolve(INPUTS));
    return new Staged(id, d, maxItems);
  }

  @Override
  public void commit(JobInputs inputs, JsonObject job) throws IOException {
    if (!(inputs instanceof Staged s) || !s.id.equals(job.getString("id")) || s.done) {
      throw new IllegalArgumentException("not an open staging of job " + job.getString("id"));
    }
    Files.createDirectories(s.dir.resolve(ITEMS));
    syncDir(s.dir.resolve(INPUTS));
    writeAtomically(s.dir.resolve(JOB_FILE), job.encodePrettily().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    // the commit point: one rename of the whole folder, record and inputs together
    Files.move(s.dir, dir(s.id), StandardCopyOption.ATOMIC_MOVE);
    syncDir(root);
    s.done = true;
  }

  @Override
  public void save(JsonObject job) throws IOException {
    Path d = dir(job.getString("id"));
    if (!Files.isDirectory(d)) {
      throw new NoSuchFileException(d + " (job deleted)");
    }
    writeAtomically(d.resolve(JOB_FILE), job.encodePrettily().getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** Write to a temporary name, sync, rename over {@code target}, sync the folder. */
  private static void writeAtomically(Path target, byte[] bytes) throws IOException {
    Path tmp = Files.createTempFile(target.getParent(), target.getFileName().toString(), TMP_SUFFIX);
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
    syncDir(target.getParent());
  }

  /** Makes a folder's entries (renames, new files) durable. */
  private static void syncDir(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // some file systems refuse to open folders for syncing; their renames are then as durable as they get
      if (!Files.isDirectory(dir)) {
        throw e;
      }
    }
  }

  // ---------------------------------------------------------------- inputs and results

  private Path inputPath(String jobId, int index) {
    if (index < 0) {
      throw new IllegalArgumentException("invalid item index");
    }
    return dir(jobId).resolve(INPUTS).resolve(index + INPUT_SUFFIX);
  }

  @Override
  public List<Integer> storedInputs(String jobId) throws IOException {
    Path inputs = dir(jobId).resolve(INPUTS);
    if (!Files.isDirectory(inputs)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(inputs)) {
      return files.map(p -> p.getFileName().toString()).filter(INPUT_NAME.asMatchPredicate())
          .map(n -> Integer.parseInt(n.substring(0, n.length() - INPUT_SUFFIX.length()))).sorted().toList();
    }
  }

  @Override
  public boolean hasInput(String jobId, int index) {
    return Files.isRegularFile(inputPath(jobId, index)) && Files.isReadable(inputPath(jobId, index));
  }

  @Override
  public byte[] readInput(String jobId, int index) throws IOException {
    return Files.readAllBytes(inputPath(jobId, index));
  }

  @Override
  public void deleteInput(String jobId, int index) throws IOException {
    Files.deleteIfExists(inputPath(jobId, index));
  }

  @Override
  public Path writeResult(String jobId, String fileName, byte[] bytes) throws IOException {
    Path p = resultPath(jobId, fileName);
    if (!Files.isDirectory(dir(jobId))) {
      throw new NoSuchFileException(dir(jobId) + " (job deleted)");
    }
    try {
      // never createDirectories: a job deleted since the check above must not get its folder back
      Files.createDirectory(p.getParent());
    } catch (FileAlreadyExistsException exists) {
      // made by the commit, as it should be
    }
    writeAtomically(p, bytes);
    return p;
  }

  @Override
  public Path resultPath(String jobId, String fileName) {
    if (!fileName.matches("[0-9]+(\\.alpha)?\\.(png|jpg|webp)")) {
      throw new IllegalArgumentException("invalid result name");
    }
    return dir(jobId).resolve(ITEMS).resolve(fileName);
  }

  // ---------------------------------------------------------------- deleting and retention

  @Override
  public boolean delete(String jobId) throws IOException {
    Path d = dir(jobId);
    if (!Files.exists(d)) {
      return false;
    }
    Path trash = root.resolve(TRASH);
    Files.createDirectories(trash);
    Path gone = trash.resolve(jobId + "-" + UUID.randomUUID());
    Files.move(d, gone, StandardCopyOption.ATOMIC_MOVE);
    deleteTree(gone);
    return true;
  }

  /** Deletes a folder and everything under it; returns the number of files deleted. */
  private static int deleteTree(Path d) throws IOException {
    if (!Files.exists(d)) {
      return 0;
    }
    int files = 0;
    try (Stream<Path> s = Files.walk(d)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        files += Files.isRegularFile(p) ? 1 : 0;
        Files.deleteIfExists(p);
      }
    }
    return files;
  }

  private long size(Path d) {
    try (Stream<Path> s = Files.walk(d)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    } catch (IOException e) {
      return 0;
    }
  }

  @Override
  public List<String> cleanup(Duration maxAge, long maxBytes, Set<String> deletable, long nowMillis)
      throws IOException {
    List<JsonObject> jobs = loadAll();
    List<String> deleted = new ArrayList<>();
    long total = 0;
    List<JsonObject> kept = new ArrayList<>();
    for (JsonObject j : jobs) {
      String id = j.getString("id");
      if (deletable.contains(id) && nowMillis - j.getLong("createdAt", nowMillis) > maxAge.toMillis()) {
        delete(id);
        deleted.add(id);
      } else {
        kept.add(j);
        total += size(dir(id));
      }
    }
    // oldest first until under the byte budget
    for (int i = kept.size() - 1; i >= 0 && total > maxBytes; i--) {
      String id = kept.get(i).getString("id");
      if (!deletable.contains(id)) {
        continue;
      }
      total -= size(dir(id));
      delete(id);
      deleted.add(id);
    }
    return deleted;
  }

  // ---------------------------------------------------------------- staging

  /** Inputs under {@code .incoming/<id>/inputs/} until committed. */
  private static final class Staged implements JobInputs {
    private final String id;
    private final Path dir;
    private final int maxItems;
    private final List<String> names = new ArrayList<>();
    private final List<Skipped> skipped = new ArrayList<>();
    private int skippedCount;
    private long bytes;
    /** Bytes written to the input opened last ({@link #removeLast}). */
    private long lastBytes;
    private OutputStream last;
    /** Committed or discarded: the folder is no longer this object's. */
    private volatile boolean done;

    Staged(String id, Path dir, int maxItems) {
      this.id = id;
      this.dir = dir;
      this.maxItems = maxItems;
    }

    @Override
    public String jobId() {
      return id;
    }

    @Override
    public OutputStream add(String name) throws IOException {
      if (done) {
        throw new IllegalStateException("staging of job " + id + " is closed");
      }
      if (names.size() >= maxItems) {
        throw new CodedException(ErrorCode.TOO_MANY_ITEMS, "a job takes at most " + maxItems + " images");
      }
      Path file = dir.resolve(INPUTS).resolve(names.size() + INPUT_SUFFIX);
      names.add(name);
      lastBytes = 0;
      FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      last = new OutputStream() {
        @Override
        public void write(int b) throws IOException {
          write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          ByteBuffer buf = ByteBuffer.wrap(b, off, len);
          while (buf.hasRemaining()) {
            ch.write(buf);
          }
          bytes += len;
          lastBytes += len;
        }

        @Override
        public void close() throws IOException {
          if (ch.isOpen()) {
            try {
              ch.force(true);
            } finally {
              ch.close();
            }
          }
        }
      };
      return last;
    }

    @Override
    public void removeLast() throws IOException {
      if (done || last == null) {
        throw new IllegalStateException("no open input of job " + id + " to remove");
      }
      last.close();
      last = null;
      Files.delete(dir.resolve(INPUTS).resolve((names.size() - 1) + INPUT_SUFFIX));
      names.remove(names.size() - 1);
      bytes -= lastBytes;
      lastBytes = 0;
    }

    @Override
    public void skip(String name, ErrorCode reason) {
      skippedCount++;
      if (skipped.size() < LISTED_SKIPS) {
        skipped.add(new Skipped(name, reason.code()));
      }
    }

    @Override
    public int skippedCount() {
      return skippedCount;
    }

    @Override
    public List<Skipped> skipped() {
      return Collections.unmodifiableList(skipped);
    }

    @Override
    public List<String> names() {
      return Collections.unmodifiableList(names);
    }

    @Override
    public long bytes() {
      return bytes;
    }

    @Override
    public void discard() {
      if (done) {
        return;
      }
      done = true;
      try {
        deleteTree(dir);
      } catch (IOException e) {
        // the next start deletes every staged folder anyway
        LOG.warning("event=job_discard_failed job=" + id + " error=" + e.getMessage());
      }
    }
  }
}
