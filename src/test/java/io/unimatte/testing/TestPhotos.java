package io.unimatte.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The real photos kept in the repository as test fixtures ({@code src/test/resources/photos},
 * licences in its README), so that a fresh clone runs its tests with nothing beside it.
 */
public final class TestPhotos {
  /** Every fixture photo, in name order. */
  public static final List<String> NAMES = List.of("astronaut.png", "chelsea.png", "coffee.png", "grace_hopper.jpg");
  /** Where the photos live in the source tree, relative to the project root (Maven's working directory). */
  private static final Path SOURCE_DIR = Path.of("src", "test", "resources", "photos");
  private static final String RESOURCE_DIR = "/photos/";

  private TestPhotos() {
  }

  /** The bytes of photo {@code name}, e.g. {@code "astronaut.png"}. */
  public static byte[] bytes(String name) {
    try (InputStream in = TestPhotos.class.getResourceAsStream(RESOURCE_DIR + name)) {
      if (in == null) {
        throw new IllegalArgumentException("no test photo " + name + " in " + SOURCE_DIR);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The folder holding the photos as a file-system path, for code that needs files (the browser
   * test hands it to node): the source folder when run from the project root, else the copy on
   * the class path.
   */
  public static Path dir() {
    if (Files.isDirectory(SOURCE_DIR)) {
      return SOURCE_DIR.toAbsolutePath();
    }
    URL url = TestPhotos.class.getResource(RESOURCE_DIR + NAMES.get(0));
    if (url == null || !"file".equals(url.getProtocol())) {
      throw new IllegalStateException("test photos not found in " + SOURCE_DIR + " nor on the class path");
    }
    try {
      return Path.of(url.toURI()).getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
