package io.unimatte.api;

import io.unimatte.error.CodedException;
import io.unimatte.error.ErrorCode;
import io.unimatte.jobs.JobInputs;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Locale;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Reads the images out of an uploaded zip, defensively: entries with absolute paths or
 * {@code ..} are refused, folders and non-image names are skipped, and the number of entries and
 * the bytes actually inflated are capped (the sizes a zip declares are not trusted). Each image is
 * streamed into the job's staged inputs, so a big zip is never inflated into memory.
 */
final class ZipUnpacker {
  private static final byte[] MAGIC = {'P', 'K', 3, 4};
  private static final List<String> IMAGE_EXTENSIONS = List.of(".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp",
      ".tif", ".tiff");
  private static final int BUFFER = 1 << 16;

  private ZipUnpacker() {
  }

  static boolean isZip(byte[] data) {
    if (data.length < MAGIC.length) {
      return false;
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (data[i] != MAGIC[i]) {
        return false;
      }
    }
    return true;
  }

  /**
   * Adds the image entries to {@code out}, in archive order; fails with {@code zip_*} codes (what
   * was added stays in {@code out}: the caller discards the staging).
   *
   * @return how many images were added
   */
  static int unpack(byte[] zip, int maxEntries, long maxTotalBytes, JobInputs out) throws IOException {
    int images = 0;
    long total = 0;
    int entries = 0;
    try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
      ZipEntry e;
      byte[] buf = new byte[BUFFER];
      while ((e = next(in)) != null) {
        if (++entries > maxEntries) {
          throw new CodedException(ErrorCode.ZIP_TOO_MANY_ENTRIES, "the zip has more than " + maxEntries + " entries");
        }
        String name = e.getName().replace('\\', '/');
        if (name.startsWith("/") || name.matches("^[A-Za-z]:.*") || List.of(name.split("/")).contains("..")) {
          throw new CodedException(ErrorCode.ZIP_UNSAFE_PATH, "the zip entry '" + name + "' points outside the archive");
        }
        String lower = name.toLowerCase(Locale.ROOT);
        if (e.isDirectory() || name.contains("/__MACOSX/") || name.startsWith("__MACOSX/")
            || IMAGE_EXTENSIONS.stream().noneMatch(lower::endsWith)) {
          continue;
        }
        try (OutputStream data = out.add(name.substring(name.lastIndexOf('/') + 1))) {
          int n;
          while ((n = read(in, buf)) > 0) {
            total += n;
            if (total > maxTotalBytes) {
              throw new CodedException(ErrorCode.ZIP_TOO_LARGE, "the zip inflates to more than " + maxTotalBytes + " bytes");
            }
            data.write(buf, 0, n);
          }
        }
        images++;
      }
    }
    if (images == 0) {
      throw new CodedException(ErrorCode.MISSING_IMAGE, "the zip holds no image files");
    }
    return images;
  }

  // The zip is read from memory: its read errors are a truncated or corrupt archive (the client's),
  // while an IOException from writing the inputs is the disk's.

  private static ZipEntry next(ZipInputStream in) {
    try {
      return in.getNextEntry();
    } catch (IOException e) {
      throw invalid(e);
    }
  }

  private static int read(ZipInputStream in, byte[] buf) {
    try {
      return in.read(buf);
    } catch (IOException e) {
      throw invalid(e);
    }
  }

  private static CodedException invalid(IOException e) {
    return new CodedException(ErrorCode.ZIP_INVALID, "the zip could not be read: " + e.getMessage());
  }
}
