package io.unimatte.cli;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes an output so that it is either absent, the old file, or the whole new file: the bytes go to
 * a hidden temporary name in the same folder, which is then renamed over the target. A run stopped
 * half-way (Ctrl-C, a crash) never leaves a half-written image that {@code --skip-existing} would
 * take for finished.
 */
final class AtomicFiles {
  /** Suffix of the temporary files; they are hidden (dot-prefixed), so no input scan picks them up. */
  static final String TEMP_SUFFIX = ".unimatte-part";

  private AtomicFiles() {
  }

  static void write(Path target, byte[] bytes) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path temp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong())
        + TEMP_SUFFIX);
    try {
      Files.write(temp, bytes);
      try {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        // some file systems rename only non-atomically; the temporary name still hides the partial file
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temp);
    }
  }
}
