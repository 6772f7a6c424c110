package io.unimatte.cli;

import io.unimatte.error.CodedException;
import io.unimatte.error.ErrorCode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The images of {@code IN} and where each one's output goes under {@code OUT}: a single file, a
 * folder (its sub-folders with {@code -r}) or a zip (its folders always). Outputs mirror the tree;
 * the extension becomes the output format's. Files are picked by their extension; others are
 * listed as ignored. Hidden files and folders are left out, and so is {@code OUT} when it lies
 * inside {@code IN}, so a second run does not cut its own outputs.
 */
final class InputSet implements AutoCloseable {
  /** File extensions read as images: what the decoder reads (JPEG, PNG, BMP, GIF, WebP, TIFF). */
  static final Set<String> IMAGE_EXTENSIONS = Set.of("jpg", "jpeg", "jpe", "png", "bmp", "gif", "webp", "tif",
      "tiff");
  /** Extensions of an {@code OUT} that names a file rather than a folder (single-image input). */
  private static final Set<String> OUTPUT_EXTENSIONS = Set.of("png", "jpg", "jpeg");
  private static final byte[] ZIP_MAGIC = {'P', 'K', 3, 4};

  /**
   * One image to cut.
   *
   * @param name     its path relative to {@code IN}, with {@code /} separators (what reports show)
   * @param output   where its result goes
   * @param modified last modification of the input, in ms (for {@code --skip-existing})
   */
  record Item(String name, Path output, long modified, Source source) {
    /** The input's bytes, at most {@code maxBytes} of them. */
    byte[] read(long maxBytes) throws IOException {
      return source.read(maxBytes);
    }
  }

  /** Where an item's bytes come from. */
  interface Source {
    byte[] read(long maxBytes) throws IOException;
  }

  /** An input that could not even be listed (a zip entry with an unsafe path). */
  record Rejected(String name, ErrorCode code, String message) {
  }

  private final List<Item> todo = new ArrayList<>();
  private final List<Item> existing = new ArrayList<>();
  private final List<String> ignored = new ArrayList<>();
  private final List<Rejected> rejected = new ArrayList<>();
  private ZipFile zip;

  private InputSet() {
  }

  /** Images to cut, in name order. */
  List<Item> todo() {
    return Collections.unmodifiableList(todo);
  }

  /** Images left out by {@code --skip-existing}: their output exists and is newer than the input. */
  List<Item> existing() {
    return Collections.unmodifiableList(existing);
  }

  /** Files that are no image by their extension (names relative to {@code IN}). */
  List<String> ignored() {
    return Collections.unmodifiableList(ignored);
  }

  /** Inputs refused before reading (zip entries with {@code ..} or absolute paths). */
  List<Rejected> rejected() {
    return Collections.unmodifiableList(rejected);
  }

  /**
   * Lists the images of {@code in}.
   *
   * @param ext the output format's extension ({@code png} or {@code jpg})
   * @throws IllegalArgumentException when {@code in} does not exist or cannot be listed
   */
  static InputSet scan(Path in, Path out, boolean recursive, String ext, boolean skipExisting) {
    InputSet set = new InputSet();
    try {
      if (!Files.exists(in)) {
        throw new IllegalArgumentException("IN '" + in + "' does not exist");
      }
      List<Item> all = new ArrayList<>();
      if (Files.isDirectory(in)) {
        set.scanFolder(in, out, recursive, ext, all);
      } else if (isZip(in)) {
        set.scanZip(in, out, ext, all);
      } else {
        Path target = namesFile(in, out) ? out : out.resolve(outputName(in.getFileName().toString(), ext, false));
        all.add(new Item(in.getFileName().toString(), target, Files.getLastModifiedTime(in).toMillis(),
            max -> readFile(in, max)));
      }
      for (Item item : all) {
        if (skipExisting && isUpToDate(item)) {
          set.existing.add(item);
        } else {
          set.todo.add(item);
        }
      }
      return set;
    } catch (IOException e) {
      set.close();
      throw new IllegalArgumentException("cannot list '" + in + "': " + e.getMessage(), e);
    } catch (RuntimeException e) {
      set.close();
      throw e;
    }
  }

  /**
   * Whether {@code out} names the output file of a single image rather than a folder: it has an
   * image extension and is no existing folder.
   */
  static boolean namesFile(Path in, Path out) {
    return Files.isRegularFile(in) && !isZipQuietly(in) && !Files.isDirectory(out)
        && OUTPUT_EXTENSIONS.contains(extension(out.getFileName().toString()));
  }

  private void scanFolder(Path in, Path out, boolean recursive, String ext, List<Item> all) throws IOException {
    Path outAbs = out.toAbsolutePath().normalize();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(in, recursive ? Integer.MAX_VALUE : 1)) {
      files = walk.filter(p -> !p.equals(in))
          .filter(p -> !isHiddenBelow(in, p))
          .filter(p -> !p.toAbsolutePath().normalize().startsWith(outAbs))
          .filter(Files::isRegularFile)
          .sorted()
          .toList();
    }
    Map<String, List<Integer>> byOutput = new HashMap<>();
    List<String> names = new ArrayList<>();
    for (Path f : files) {
      String name = in.relativize(f).toString().replace(f.getFileSystem().getSeparator(), "/");
      if (!IMAGE_EXTENSIONS.contains(extension(name))) {
        ignored.add(name);
        continue;
      }
      names.add(name);
    }
    for (int i = 0; i < names.size(); i++) {
      byOutput.computeIfAbsent(outputName(names.get(i), ext, false).toLowerCase(Locale.ROOT), k -> new ArrayList<>())
          .add(i);
    }
    for (int i = 0; i < names.size(); i++) {
      String name = names.get(i);
      Path file = in.resolve(name);
      all.add(new Item(name, out.resolve(outputName(name, ext, collides(byOutput, name, ext))),
          Files.getLastModifiedTime(file).toMillis(), max -> readFile(file, max)));
    }
  }

  private void scanZip(Path in, Path out, String ext, List<Item> all) throws IOException {
    zip = new ZipFile(in.toFile());
    long zipModified = Files.getLastModifiedTime(in).toMillis();
    List<ZipEntry> entries = new ArrayList<>();
    for (ZipEntry e : Collections.list(zip.entries())) {
      String name = e.getName();
      if (name.startsWith("/") || name.contains("\\") || List.of(name.split("/")).contains("..")) {
        // never let an entry name write outside OUT
        rejected.add(new Rejected(name, ErrorCode.ZIP_UNSAFE_PATH, "the entry has an absolute path or '..'"));
        continue;
      }
      if (e.isDirectory() || isHidden(name)) {
        continue;
      }
      if (!IMAGE_EXTENSIONS.contains(extension(name))) {
        ignored.add(name);
        continue;
      }
      entries.add(e);
    }
    entries.sort((a, b) -> a.getName().compareTo(b.getName()));
    Map<String, List<Integer>> byOutput = new HashMap<>();
    for (int i = 0; i < entries.size(); i++) {
      byOutput.computeIfAbsent(outputName(entries.get(i).getName(), ext, false).toLowerCase(Locale.ROOT),
          k -> new ArrayList<>()).add(i);
    }
    ZipFile z = zip;
    for (ZipEntry e : entries) {
      String name = e.getName();
      long modified = e.getTime() > 0 ? e.getTime() : zipModified;
      all.add(new Item(name, out.resolve(outputName(name, ext, collides(byOutput, name, ext))), modified,
          max -> {
            try (InputStream s = z.getInputStream(e)) {
              return readCapped(s, max);
            }
          }));
    }
  }

  private static boolean collides(Map<String, List<Integer>> byOutput, String name, String ext) {
    return byOutput.get(outputName(name, ext, false).toLowerCase(Locale.ROOT)).size() > 1;
  }

  /**
   * {@code sub/a.jpg} → {@code sub/a.png}; when two inputs would share that name
   * ({@code a.jpg} and {@code a.png}), each keeps its own extension: {@code a.jpg.png}, {@code a.png.png}.
   */
  static String outputName(String name, String ext, boolean keepExtension) {
    int slash = name.lastIndexOf('/');
    int dot = name.lastIndexOf('.');
    String base = keepExtension || dot <= slash + 1 ? name : name.substring(0, dot);
    return base + "." + ext;
  }

  static String extension(String name) {
    int dot = name.lastIndexOf('.');
    return dot < 0 || dot < name.lastIndexOf('/') ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
  }

  private static boolean isUpToDate(Item item) throws IOException {
    return Files.isRegularFile(item.output())
        && Files.getLastModifiedTime(item.output()).toMillis() >= item.modified();
  }

  private static boolean isHiddenBelow(Path root, Path p) {
    for (Path part : root.relativize(p)) {
      if (part.toString().startsWith(".")) {
        return true;
      }
    }
    return false;
  }

  /** Hidden files, and the resource forks that macOS's archiver adds to zips. */
  private static boolean isHidden(String zipName) {
    for (String part : zipName.split("/")) {
      if (part.startsWith(".") || part.equals("__MACOSX")) {
        return true;
      }
    }
    return false;
  }

  static boolean isZip(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      return false;
    }
    if (extension(file.getFileName().toString()).equals("zip")) {
      return true;
    }
    try (InputStream s = Files.newInputStream(file)) {
      byte[] head = s.readNBytes(ZIP_MAGIC.length);
      return java.util.Arrays.equals(head, ZIP_MAGIC);
    }
  }

  private static boolean isZipQuietly(Path file) {
    try {
      return isZip(file);
    } catch (IOException e) {
      return false;
    }
  }

  private static byte[] readFile(Path file, long maxBytes) throws IOException {
    try (InputStream s = Files.newInputStream(file)) {
      return readCapped(s, maxBytes);
    }
  }

  /** Reads at most {@code maxBytes}; a longer input fails with {@code image_too_large} without being read whole. */
  private static byte[] readCapped(InputStream s, long maxBytes) throws IOException {
    byte[] data = s.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
    if (data.length > maxBytes) {
      throw new CodedException(ErrorCode.IMAGE_TOO_LARGE, "the file is larger than " + maxBytes + " bytes");
    }
    return data;
  }

  @Override
  public void close() {
    if (zip != null) {
      try {
        zip.close();
      } catch (IOException e) {
        // read-only: nothing to lose
      }
    }
  }
}
