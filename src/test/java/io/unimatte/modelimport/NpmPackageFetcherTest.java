package io.unimatte.modelimport;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link NpmPackageFetcher#fetchFiles} unpacks only the requested files of a package tarball
 * (here one already in the cache, so npm is not run).
 */
class NpmPackageFetcherTest {
  private static final String NAME = "@test/models";
  private static final String VERSION = "1.0.0";
  private static final String TGZ = "test-models-1.0.0.tgz";

  @TempDir
  Path cache;

  @Test
  void onlyTheRequestedFilesAreUnpacked() throws Exception {
    byte[] bin = new byte[1500];
    for (int i = 0; i < bin.length; i++) {
      bin[i] = (byte) (i * 7);
    }
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("package/package.json", "{}".getBytes(StandardCharsets.UTF_8));
    entries.put("package/models/big.bin", new byte[5000]);
    entries.put("package/models/m.json", "{\"a\":1}".getBytes(StandardCharsets.UTF_8));
    entries.put("package/models/m.bin", bin);
    writeTgz(cache.resolve(TGZ), entries);

    Path pkg = NpmPackageFetcher.fetchFiles(NAME, VERSION, List.of("models/m.json", "models/m.bin"), cache);
    assertArrayEquals(bin, Files.readAllBytes(pkg.resolve("models/m.bin")));
    assertArrayEquals(entries.get("package/models/m.json"), Files.readAllBytes(pkg.resolve("models/m.json")));
    assertFalse(Files.exists(pkg.resolve("models/big.bin")));
    assertFalse(Files.exists(pkg.resolve("package.json")));
  }

  @Test
  void aFileTheTarballLacksIsNamed() throws Exception {
    writeTgz(cache.resolve(TGZ), Map.of("package/package.json", new byte[2]));
    IOException e = assertThrows(IOException.class,
        () -> NpmPackageFetcher.fetchFiles(NAME, VERSION, List.of("models/m.bin"), cache));
    assertTrue(e.getMessage().contains("models/m.bin"), e.getMessage());
    try (var left = Files.list(cache)) {
      assertEquals(List.of(cache.resolve(TGZ)), left.toList(), "nothing but the tarball is left behind");
    }
  }

  @Test
  void npmIsStartedAsEachOsNamesIt() {
    assertEquals("npm.cmd", NpmPackageFetcher.npmCommand("Windows 11"));
    assertEquals("npm.cmd", NpmPackageFetcher.npmCommand("Windows Server 2022"));
    assertEquals("npm", NpmPackageFetcher.npmCommand("Linux"));
    assertEquals("npm", NpmPackageFetcher.npmCommand("Mac OS X"));
  }

  /** A minimal ustar archive: name, mode, size and type are all the reader needs. */
  private static void writeTgz(Path file, Map<String, byte[]> entries) throws IOException {
    ByteArrayOutputStream tar = new ByteArrayOutputStream();
    for (Map.Entry<String, byte[]> e : entries.entrySet()) {
      byte[] header = new byte[512];
      put(header, 0, e.getKey());
      put(header, 100, "0000644");
      put(header, 124, String.format("%011o", e.getValue().length));
      header[156] = '0';
      put(header, 257, "ustar");
      tar.writeBytes(header);
      tar.writeBytes(e.getValue());
      tar.writeBytes(new byte[(512 - e.getValue().length % 512) % 512]);
    }
    tar.writeBytes(new byte[1024]);
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
      out.write(tar.toByteArray());
    }
  }

  private static void put(byte[] header, int offset, String s) {
    byte[] b = s.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(b, 0, header, offset, b.length);
  }
}
