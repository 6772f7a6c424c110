package io.unimatte.cli;

import io.unimatte.testing.TestPhotos;
import io.unimatte.testing.TinyModel;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code unimatte cut} run as its own process, as a user runs it, with the tiny model: on a folder
 * tree of the test photos plus a broken JPEG, a text file named like an image and a plain text file.
 * Outputs mirror the tree, the broken ones are reported with their codes and make the exit status
 * non-zero, {@code --json} lines parse, {@code --skip-existing} leaves finished outputs alone, a stop
 * (SIGTERM, as Ctrl-C) leaves no half-written file, and client mode does the same on a server started
 * here through the same entry point.
 */
class CutCommandTest {
  private static final long RUN_TIMEOUT_SECONDS = 180;
  /** The photos, where they go in the tree. */
  private static final Map<String, String> PHOTOS = Map.of(
      "astronaut.png", "astronaut.png",
      "chelsea.png", "pets/chelsea.png",
      "coffee.png", "pets/more/coffee.png",
      "grace_hopper.jpg", "people/grace_hopper.jpg");

  @TempDir
  static Path models;

  @BeforeAll
  static void model() throws IOException {
    TinyModel.write(models, "tiny");
  }

  /** The photos in a tree, a truncated JPEG, text named .png, and a .txt. */
  private static Path tree(Path root) throws IOException {
    Path in = root.resolve("in");
    for (Map.Entry<String, String> p : PHOTOS.entrySet()) {
      Path target = in.resolve(p.getValue());
      Files.createDirectories(target.getParent());
      Files.write(target, TestPhotos.bytes(p.getKey()));
    }
    byte[] jpeg = TestPhotos.bytes("grace_hopper.jpg");
    Files.write(in.resolve("people/broken.jpg"), Arrays.copyOf(jpeg, jpeg.length / 3));
    Files.writeString(in.resolve("pets/notes.png"), "these are no pixels\n");
    Files.writeString(in.resolve("README.txt"), "a folder of product photos\n");
    return in;
  }

  @Test
  void cutsAFolderTreeReportsBrokenFilesAndResumes(@TempDir Path tmp) throws Exception {
    Path in = tree(tmp);
    Path out = tmp.resolve("out");

    Run first = embedded(tmp, "cut", in.toString(), out.toString(), "-r", "--json");
    assertEquals(1, first.exit, "some images failed: exit 1\n" + first.err);
    List<JsonObject> lines = first.jsonLines();
    assertEquals(6, lines.size(), "one JSON line per image (the .txt is no image):\n" + first.out);
    Map<String, JsonObject> byFile = lines.stream().collect(Collectors.toMap(j -> j.getString("file"), j -> j));
    for (Map.Entry<String, String> p : PHOTOS.entrySet()) {
      JsonObject line = byFile.get(p.getValue());
      assertEquals("done", line.getString("status"), line.encode());
      String outName = p.getValue().replaceAll("\\.(jpg|png)$", ".png");
      Path result = out.resolve(outName);
      assertEquals(result.toString(), line.getString("output"));
      BufferedImage cut = ImageIO.read(result.toFile());
      BufferedImage photo = ImageIO.read(new ByteArrayInputStream(TestPhotos.bytes(p.getKey())));
      assertEquals(photo.getWidth(), cut.getWidth(), outName);
      assertEquals(photo.getHeight(), cut.getHeight(), outName);
      assertTrue(cut.getColorModel().hasAlpha(), "a cutout has alpha: " + outName);
      assertEquals(cut.getWidth(), line.getInteger("width"));
      assertEquals("tiny", line.getString("model"));
    }
    assertEquals("corrupt_image", byFile.get("people/broken.jpg").getString("code"));
    assertEquals("failed", byFile.get("people/broken.jpg").getString("status"));
    assertEquals("unsupported_format", byFile.get("pets/notes.png").getString("code"));
    assertEquals(List.of("astronaut.png", "people/grace_hopper.png", "pets/chelsea.png", "pets/more/coffee.png"),
        files(out), "outputs mirror the tree; nothing for the broken ones, no temporary files");
    assertTrue(first.err.contains("4 done, 2 failed of 6 images"), first.err);
    assertTrue(first.err.contains("1 ignored, not images by their extension: README.txt"), first.err);
    assertFalse(first.err.contains("event="), "no server log lines without --verbose:\n" + first.err);

    Map<String, Long> stamps = new HashMap<>();
    for (String f : files(out)) {
      stamps.put(f, Files.getLastModifiedTime(out.resolve(f)).toMillis());
    }
    Run again = embedded(tmp, "cut", in.toString(), out.toString(), "-r", "--skip-existing");
    assertEquals(1, again.exit, "the broken ones still fail\n" + again.err);
    assertTrue(again.err.contains("0 done, 2 failed of 2 images"), "nothing cut again:\n" + again.err);
    assertTrue(again.err.contains("4 skipped: output newer than the input"), again.err);
    assertTrue(again.err.contains("failed people/broken.jpg: corrupt_image"), "one line per failure:\n" + again.err);
    assertTrue(again.err.contains("failed pets/notes.png: unsupported_format"), again.err);
    for (String f : files(out)) {
      assertEquals(stamps.get(f), Files.getLastModifiedTime(out.resolve(f)).toMillis(), f + " left alone");
    }

    Run clean = embedded(tmp, "cut", in.resolve("pets").toString(), out.resolve("pets").toString(), "-r",
        "--skip-existing", "--json");
    assertEquals(1, clean.exit, clean.err);
    Run nothing = embedded(tmp, "cut", in.resolve("pets/more").toString(), out.resolve("pets/more").toString(),
        "--skip-existing", "--json");
    assertEquals(0, nothing.exit, "all up to date: exit 0\n" + nothing.err);
    assertEquals("skipped", nothing.jsonLines().get(0).getString("status"));
    assertTrue(nothing.err.contains("0 done, 0 failed of 0 images"), nothing.err);
    assertFalse(nothing.err.contains("loading model"), "nothing to do: no model loaded\n" + nothing.err);
  }

  @Test
  void zipsSingleFilesAndOptions(@TempDir Path tmp) throws Exception {
    Path zip = tmp.resolve("photos.zip");
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(zip))) {
      for (Map.Entry<String, String> p : PHOTOS.entrySet()) {
        z.putNextEntry(new ZipEntry("shoot/" + p.getValue()));
        z.write(TestPhotos.bytes(p.getKey()));
        z.closeEntry();
      }
      z.putNextEntry(new ZipEntry("../escape.png"));
      z.write(TestPhotos.bytes("chelsea.png"));
      z.closeEntry();
    }
    Path out = tmp.resolve("from-zip");
    Run fromZip = embedded(tmp, "cut", zip.toString(), out.toString(), "--output", "alpha", "--size", "100x100",
        "--json");
    assertEquals(1, fromZip.exit, fromZip.err);
    assertEquals(List.of("shoot/astronaut.png", "shoot/people/grace_hopper.png", "shoot/pets/chelsea.png",
        "shoot/pets/more/coffee.png"), files(out), "a zip's folders are mirrored");
    assertEquals("zip_unsafe_path", fromZip.jsonLines().stream().filter(j -> j.getString("file").equals("../escape.png"))
        .findFirst().orElseThrow().getString("code"));
    assertFalse(Files.exists(tmp.resolve("escape.png")), "nothing written outside OUT");
    BufferedImage matte = ImageIO.read(out.resolve("shoot/astronaut.png").toFile());
    assertEquals(100, matte.getWidth(), "--size bounds the output");
    assertFalse(matte.getColorModel().hasAlpha(), "--output alpha: a grey matte");

    Path photo = tmp.resolve("grace_hopper.jpg");
    Files.write(photo, TestPhotos.bytes("grace_hopper.jpg"));
    Path named = tmp.resolve("portrait.jpg");
    Run single = embedded(tmp, "cut", photo.toString(), named.toString(), "--bg", "ff0000");
    assertEquals(0, single.exit, single.err);
    byte[] head = Arrays.copyOf(Files.readAllBytes(named), 2);
    assertArrayEquals(new byte[] {(byte) 0xFF, (byte) 0xD8}, head, "OUT named .jpg: a JPEG");
    assertTrue(single.err.contains("1 done, 0 failed of 1 image"), single.err);

    Run bad = embedded(tmp, "cut", photo.toString(), tmp.resolve("x").toString(), "--crop-margin", "lots");
    assertEquals(2, bad.exit, "a bad option is a usage error\n" + bad.err);
    assertTrue(bad.err.contains("--crop-margin"), bad.err);
  }

  @Test
  void aStopFinishesTheImagesInFlightAndLeavesNoPartialFile(@TempDir Path tmp) throws Exception {
    Path in = tmp.resolve("many");
    Files.createDirectories(in);
    int count = 60;
    for (int i = 0; i < count; i++) {
      Files.write(in.resolve(String.format("img-%03d.png", i)), png(200 + i));
    }
    Path out = tmp.resolve("out");
    Started tool = start(tmp, List.of("cut", in.toString(), out.toString(), "--parallel", "2"));
    Process p = tool.process();
    long deadline = System.currentTimeMillis() + TimeUnit.SECONDS.toMillis(RUN_TIMEOUT_SECONDS);
    while (!Files.isDirectory(out) || files(out).isEmpty()) {
      assertTrue(System.currentTimeMillis() < deadline && p.isAlive(), "the tool started cutting");
      Thread.sleep(20);
    }
    p.destroy(); // SIGTERM: the same shutdown hook as Ctrl-C
    assertTrue(p.waitFor(RUN_TIMEOUT_SECONDS, TimeUnit.SECONDS));
    Run stopped = tool.finished();
    assertTrue(stopped.exit == 143 || stopped.exit == CutCommand.EXIT_INTERRUPTED, "stopped: " + stopped.exit);
    assertTrue(stopped.err.contains("interrupted:"), stopped.err);
    List<String> done = files(out);
    assertTrue(done.size() < count, "it stopped early: " + done.size());
    for (String f : done) {
      assertTrue(ImageIO.read(out.resolve(f).toFile()) != null, "a whole image: " + f);
    }

    Run rest = embedded(tmp, "cut", in.toString(), out.toString(), "--skip-existing");
    assertEquals(0, rest.exit, rest.err);
    assertTrue(rest.err.contains((count - done.size()) + " done, 0 failed"), rest.err);
    assertTrue(rest.err.contains(done.size() + " skipped"), rest.err);
    assertEquals(count, files(out).size());
  }

  @Test
  void clientModeFollowsTheJobsOverTheWebSocket(@TempDir Path tmp) throws Exception {
    Path in = tree(tmp);
    Path out = tmp.resolve("out");
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    // the server through the same entry point as `java -jar unimatte.jar` with no command
    Process server = start(tmp, List.of("--server.port=" + port, "--server.host=127.0.0.1",
        "--models.dir=" + models, "--models.default=tiny", "--models.serve=[\"tiny\"]", "--models.autoImport=false",
        "--jobs.outputsDir=" + tmp.resolve("server-outputs"), "--inference.warmupRuns=1",
        "--security.apiKeys=[\"secret\"]")).process();
    HttpClient http = HttpClient.newHttpClient();
    String base = "http://127.0.0.1:" + port;
    try {
      waitForHealth(http, base, server);
      Run noKey = run(tmp, "cut", in.toString(), out.toString(), "-r", "--server", base);
      assertEquals(CutCommand.EXIT_CANNOT_START, noKey.exit, noKey.err);
      assertTrue(noKey.err.contains("missing_api_key"), noKey.err);

      Run client = run(tmp, "cut", in.toString(), out.toString(), "-r", "--server", base, "--api-key", "secret",
          "--json", "--verbose", "--job-size", "2");
      assertEquals(1, client.exit, client.err);
      List<JsonObject> lines = client.jsonLines();
      assertEquals(6, lines.size(), client.out);
      Map<String, JsonObject> byFile = lines.stream().collect(Collectors.toMap(j -> j.getString("file"), j -> j));
      assertEquals("corrupt_image", byFile.get("people/broken.jpg").getString("code"));
      assertEquals("unsupported_format", byFile.get("pets/notes.png").getString("code"));
      assertEquals(List.of("astronaut.png", "people/grace_hopper.png", "pets/chelsea.png", "pets/more/coffee.png"),
          files(out));
      long jobs = lines.stream().map(j -> j.getString("job")).distinct().count();
      assertEquals(3, jobs, "6 images in jobs of 2");
      for (String job : lines.stream().map(j -> j.getString("job")).distinct().toList()) {
        assertTrue(client.err.contains("event=ws_progress job=" + job), "progress of " + job
            + " came over the WebSocket:\n" + client.err);
      }
      assertTrue(client.err.contains("stage=inferring"), client.err);
      for (Map.Entry<String, String> p : PHOTOS.entrySet()) {
        BufferedImage photo = ImageIO.read(new ByteArrayInputStream(TestPhotos.bytes(p.getKey())));
        BufferedImage cut = ImageIO.read(out.resolve(p.getValue().replaceAll("\\.(jpg|png)$", ".png")).toFile());
        assertEquals(photo.getWidth(), cut.getWidth());
      }
      HttpResponse<String> list = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/jobs"))
          .header("X-Api-Key", "secret").build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(0, new JsonObject(list.body()).getJsonArray("jobs").size(), "finished jobs are deleted");

      Run again = run(tmp, "cut", in.toString(), out.toString(), "-r", "--server", base, "--api-key", "secret",
          "--skip-existing");
      assertTrue(again.err.contains("0 done, 2 failed of 2 images"), again.err);
      assertTrue(again.err.contains("4 skipped"), again.err);
    } finally {
      server.destroy();
      server.waitFor(60, TimeUnit.SECONDS);
    }
  }

  // --- running the tool ---

  /** What a finished run printed and returned. */
  private record Run(int exit, String out, String err) {
    List<JsonObject> jsonLines() {
      return out.lines().filter(l -> !l.isBlank()).map(JsonObject::new).toList();
    }
  }

  /** Embedded mode with the tiny model. */
  private static Run embedded(Path tmp, String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--models.dir=" + models, "--models.default=tiny", "--models.autoImport=false",
        "--inference.warmupRuns=1"));
    return run(tmp, all.toArray(String[]::new));
  }

  private static Run run(Path tmp, String... args) throws Exception {
    Started p = start(tmp, List.of(args));
    assertTrue(p.process().waitFor(RUN_TIMEOUT_SECONDS, TimeUnit.SECONDS), "the tool finished: " + List.of(args));
    return p.finished();
  }

  /** A running tool and the folder its stdout and stderr go to. */
  private record Started(Process process, Path logs) {
    Run finished() throws IOException {
      return new Run(process.exitValue(), Files.readString(logs.resolve("out"), StandardCharsets.UTF_8),
          Files.readString(logs.resolve("err"), StandardCharsets.UTF_8));
    }
  }

  /** The tool's entry point in a JVM of its own, on the test class path, in the project folder. */
  private static Started start(Path tmp, List<String> args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx1g", "-cp", System.getProperty("java.class.path"), UnimatteCli.class.getName()));
    cmd.addAll(args);
    Path logs = Files.createTempDirectory(tmp, "run");
    Process p = new ProcessBuilder(cmd).redirectOutput(logs.resolve("out").toFile())
        .redirectError(logs.resolve("err").toFile()).start();
    return new Started(p, logs);
  }

  private static List<String> files(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile).map(f -> root.relativize(f).toString().replace(File.separatorChar, '/'))
          .sorted().toList();
    }
  }

  private static void waitForHealth(HttpClient http, String base, Process server) throws Exception {
    long deadline = System.currentTimeMillis() + TimeUnit.SECONDS.toMillis(RUN_TIMEOUT_SECONDS);
    while (true) {
      try {
        if (http.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
            HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // still starting
      }
      assertTrue(System.currentTimeMillis() < deadline && server.isAlive(), "the server started");
      Thread.sleep(200);
    }
  }

  /** A distinct PNG: a bright disc on a dark ground. */
  private static byte[] png(int size) throws IOException {
    BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
    var g = img.createGraphics();
    g.setColor(java.awt.Color.WHITE);
    g.fillOval(size / 4, size / 4, size / 2, size / 2);
    g.dispose();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ImageIO.write(img, "png", bytes);
    return bytes.toByteArray();
  }
}
