package io.unimatte.jobs.impl;

import io.unimatte.jobs.JobStore;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.logging.Logger;
import java.util.stream.Stream;

/** {@link JobStore} in folders: {@code root/<jobId>/job.json} and {@code root/<jobId>/items/*}. */
public final class FileJobStore implements JobStore {
  private static final Logger LOG = Logger.getLogger(FileJobStore.class.getName());
  private static final String JOB_FILE = "job.json";
  private static final String ITEMS = "items";

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

  @Override
  public List<JsonObject> loadAll() {
    List<JsonObject> jobs = new ArrayList<>();
    try (Stream<Path> dirs = Files.list(root)) {
      for (Path d : dirs.filter(Files::isDirectory).toList()) {
        Path f = d.resolve(JOB_FILE);
        if (!JobStore.isValidId(d.getFileName().toString()) || !Files.isRegularFile(f)) {
          continue;
        }
        try {
          jobs.add(new JsonObject(Files.readString(f)));
        } catch (IOException | RuntimeException e) {
          LOG.warning("event=job_unreadable dir=" + d + " error=" + e.getMessage());
        }
      }
    } catch (IOException e) {
      LOG.warning("event=job_store_unreadable root=" + root + " error=" + e.getMessage());
    }
    jobs.sort(Comparator.comparingLong((JsonObject j) -> j.getLong("createdAt", 0L)).reversed());
    return jobs;
  }

  @Override
  public void save(JsonObject job) throws IOException {
    Path d = dir(job.getString("id"));
    Files.createDirectories(d);
    Path tmp = Files.createTempFile(d, JOB_FILE, ".tmp");
    Files.writeString(tmp, job.encodePrettily());
    Files.move(tmp, d.resolve(JOB_FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  @Override
  public Path writeResult(String jobId, String fileName, byte[] bytes) throws IOException {
    Path p = resultPath(jobId, fileName);
    Files.createDirectories(p.getParent());
    Path tmp = Files.createTempFile(p.getParent(), fileName, ".tmp");
    Files.write(tmp, bytes);
    Files.move(tmp, p, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return p;
  }

  @Override
  public Path resultPath(String jobId, String fileName) {
    if (!fileName.matches("[0-9]+(\\.alpha)?\\.(png|jpg|webp)")) {
      throw new IllegalArgumentException("invalid result name");
    }
    return dir(jobId).resolve(ITEMS).resolve(fileName);
  }

  @Override
  public boolean delete(String jobId) throws IOException {
    Path d = dir(jobId);
    if (!Files.exists(d)) {
      return false;
    }
    try (Stream<Path> s = Files.walk(d)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
    return true;
  }

  private long size(Path d) {
    try (Stream<Path> s = Files.walk(d)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    } catch (IOException e) {
      return 0;
    }
  }

  @Override
  public List<String> cleanup(Duration maxAge, long maxBytes, Set<String> keep, long nowMillis) throws IOException {
    List<JsonObject> jobs = loadAll();
    List<String> deleted = new ArrayList<>();
    long total = 0;
    List<JsonObject> kept = new ArrayList<>();
    for (JsonObject j : jobs) {
      String id = j.getString("id");
      if (!keep.contains(id) && nowMillis - j.getLong("createdAt", nowMillis) > maxAge.toMillis()) {
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
      if (keep.contains(id)) {
        continue;
      }
      total -= size(dir(id));
      delete(id);
      deleted.add(id);
    }
    return deleted;
  }
}
