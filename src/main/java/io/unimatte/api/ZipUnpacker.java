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
 * Reads the images out of an uploaded zip, defensively: entries with absolute paths, {@code ..} or
 * control characters in their names are refused; folders are skipped; non-image names and images
 * larger than {@code imaging.maxBytes} are left out and counted; the number of entries and the
 * bytes actually inflated are capped (the sizes a zip declares are not trusted). Each image is
 * streamed into the job's staged inputs, so a big zip is never inflated into memory.
 */
final class ZipUnpacker {
  private static final byte[] MAGIC = {'P', 'K', 3, 4};
  private static final List<String> IMAGE_EXTENSIONS = List.of(".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp",
      ".tif", ".tiff");
  private static final int BUFFER = 1 << 16;
  /** Longest name of a left-out entry kept in the job's record. */
  private static final int MAX_LISTED_NAME = 255;

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
   * was added stays in {@code out}: the caller discards the staging). Entries that are no image
   * (by name) or inflate to more than {@code maxEntryBytes} are left out and recorded in
   * {@code out} ({@link JobInputs#skip}); folders and macOS metadata ({@code __MACOSX/}) are left
   * out silently. Every inflated byte counts against {@code maxTotalBytes}, left-out entries too.
   *
   * @return how many images were added
   */
  static int unpack(byte[] zip, int maxEntries, long maxTotalBytes, long maxEntryBytes, JobInputs out)
      throws IOException {
    int images = 0;
    long[] total = {0};
    int entries = 0;
    try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
      ZipEntry e;
      byte[] buf = new byte[BUFFER];
      while ((e = next(in)) != null) {
        if (++entries > maxEntries) {
          throw new CodedException(ErrorCode.ZIP_TOO_MANY_ENTRIES, "the zip has more than " + maxEntries + " entries");
        }
        String name = e.getName().replace('\\', '/');
        if (name.chars().anyMatch(ZipUnpacker::isControl)) {
          // the name would reach headers (Content-Disposition) and logs: refused, not cleaned up
          throw new CodedException(ErrorCode.ZIP_UNSAFE_NAME, "zip entry " + entries + " has control characters"
              + " (CR, LF, …) in its name");
        }
        if (name.startsWith("/") || name.matches("^[A-Za-z]:.*") || List.of(name.split("/")).contains("..")) {
          throw new CodedException(ErrorCode.ZIP_UNSAFE_PATH, "the zip entry '" + name + "' points outside the archive");
        }
        String base = name.substring(name.lastIndexOf('/') + 1);
        String lower = name.toLowerCase(Locale.ROOT);
        if (e.isDirectory() || name.contains("/__MACOSX/") || name.startsWith("__MACOSX/")) {
          drain(in, buf, total, maxTotalBytes);
          continue;
        }
        if (IMAGE_EXTENSIONS.stream().noneMatch(lower::endsWith)) {
          drain(in, buf, total, maxTotalBytes);
          out.skip(shortName(base), ErrorCode.UNSUPPORTED_FORMAT);
          continue;
        }
        if (e.getSize() > maxEntryBytes) {
          // declared too large: not even written (a declared size may lie the other way, see below)
          drain(in, buf, total, maxTotalBytes);
          out.skip(shortName(base), ErrorCode.IMAGE_TOO_LARGE);
          continue;
        }
        if (copy(in, buf, total, maxTotalBytes, maxEntryBytes, out.add(base))) {
          images++;
        } else {
          out.removeLast();
          drain(in, buf, total, maxTotalBytes);
          out.skip(shortName(base), ErrorCode.IMAGE_TOO_LARGE);
        }
      }
    }
    if (images == 0) {
      throw new CodedException(ErrorCode.MISSING_IMAGE, out.skippedCount() == 0 ? "the zip holds no image files"
          : "the zip holds no image file the server accepts (" + out.skippedCount() + " left out: not images, or"
          + " larger than " + maxEntryBytes + " bytes)");
    }
    return images;
  }

  /** Copies the entry to {@code data} (closed at the end); false once it passes {@code maxEntryBytes}. */
  private static boolean copy(ZipInputStream in, byte[] buf, long[] total, long maxTotalBytes, long maxEntryBytes,
                              OutputStream data) throws IOException {
    try (data) {
      long entry = 0;
      int n;
      while ((n = read(in, buf)) > 0) {
        count(total, n, maxTotalBytes);
        entry += n;
        if (entry > maxEntryBytes) {
          return false;
        }
        data.write(buf, 0, n);
      }
      return true;
    }
  }

  /** Reads the rest of the entry, counting it: skipping it would inflate it just the same, uncounted. */
  private static void drain(ZipInputStream in, byte[] buf, long[] total, long maxTotalBytes) {
    int n;
    while ((n = read(in, buf)) > 0) {
      count(total, n, maxTotalBytes);
    }
  }

  private static void count(long[] total, int n, long maxTotalBytes) {
    total[0] += n;
    if (total[0] > maxTotalBytes) {
      throw new CodedException(ErrorCode.ZIP_TOO_LARGE, "the zip inflates to more than " + maxTotalBytes + " bytes");
    }
  }

  private static boolean isControl(int c) {
    return c < 0x20 || c == 0x7f;
  }

  /** A left-out entry's name as the job lists it: zip names may be 64 KiB long. */
  private static String shortName(String name) {
    return name.length() <= MAX_LISTED_NAME ? name : name.substring(0, MAX_LISTED_NAME) + "…";
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
