package io.unimatte.api;

import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static io.unimatte.api.Products.H;
import static io.unimatte.api.Products.W;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A real remove.bg client against the server: {@code e2e/removebg.test.mjs} drives the {@code remove.bg}
 * npm package (node's test runner) with scale, position, roi and bg_image_url; this test then decodes
 * what the client saved. Needs {@code e2e/node_modules} ({@code cd e2e && npm install}; .ci/run does it):
 * skipped without it, unless {@code UNIMATTE_E2E_REQUIRED=1} (CI), which fails instead.
 */
class RemoveBgClientTest {
  private static final Path CLIENT = Path.of("e2e/node_modules/remove.bg");
  private static final long TIMEOUT_MINUTES = 3;
  /** JPEG's error on the flat background pattern, per channel. */
  private static final int JPEG_TOLERANCE = 12;

  @TempDir
  Path models;
  @TempDir
  Path dir;

  @Test
  void removeBgNpmClientGetsWhatItAskedFor() throws Exception {
    if (!Files.isDirectory(CLIENT)) {
      if ("1".equals(System.getenv("UNIMATTE_E2E_REQUIRED"))) {
        fail(CLIENT + " is missing: cd e2e && npm install");
      }
      Assumptions.abort(CLIENT + " is missing; the remove.bg client test is skipped (cd e2e && npm install)");
    }
    TinyModel.write(models, "tiny");
    Files.write(dir.resolve("product.png"), Products.png(Products.product()));
    Files.write(dir.resolve("bg.png"), Products.png(Products.pattern(2 * W, H)));
    try (TestServer server = TestServer.start(models, "tiny", null,
        cfg -> cfg.getJsonObject("urlFetch").put("allowLoopback", true))) {
      Path log = Files.createTempFile("unimatte-removebg", ".log");
      ProcessBuilder pb = new ProcessBuilder("node", "--test", "--test-reporter=spec", "e2e/removebg.test.mjs")
          .redirectErrorStream(true).redirectOutput(log.toFile());
      pb.environment().put("UNIMATTE_URL", "http://127.0.0.1:" + server.port());
      pb.environment().put("UNIMATTE_RBG_DIR", dir.toString());
      Process p = pb.start();
      if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        fail("the remove.bg client did not finish in " + TIMEOUT_MINUTES + " minutes:\n" + Files.readString(log));
      }
      String out = Files.readString(log, StandardCharsets.UTF_8);
      System.out.println(out);
      assertEquals(0, p.exitValue(), "the remove.bg client failed:\n" + out);
    }
    Path results = dir.resolve("out");

    int[] scaled = Products.alphaBox(read(results, "scale.png"));
    assertEquals(W / 2, Math.max(scaled[2], scaled[3]), 4, "scale=50%: " + Arrays.toString(scaled));
    assertEquals(W / 2.0, scaled[0] + scaled[2] / 2.0, 2, "position=center");
    assertEquals(H / 2.0, scaled[1] + scaled[3] / 2.0, 2, "position=center");

    BufferedImage roi = read(results, "roi.png");
    for (int y = 0; y < H; y++) {
      for (int x = W / 4; x < W; x++) {
        assertEquals(0, roi.getRGB(x, y) >>> 24, "roi: alpha outside at " + x + "," + y);
      }
    }
    assertTrue((roi.getRGB(80, 150) >>> 24) > 200, "roi: the subject inside is kept");

    BufferedImage bg = read(results, "bg.png");
    BufferedImage pattern = Products.pattern(2 * W, H);
    for (int[] at : new int[][] {{390, 10}, {10, 290}, {300, 150}}) {
      int want = pattern.getRGB(at[0] + W / 2, at[1]);
      int got = bg.getRGB(at[0], at[1]);
      for (int shift = 0; shift < 24; shift += 8) {
        assertEquals((want >> shift) & 0xFF, (got >> shift) & 0xFF, JPEG_TOLERANCE, "bg_image_url at " + at[0] + ","
            + at[1]);
      }
    }
    assertArrayEquals(Files.readAllBytes(results.resolve("bg.png")), Files.readAllBytes(results.resolve("bg-file.jpg")),
        "outputFile holds the same answer");

    BufferedImage crop = read(results, "crop.png");
    assertEquals(Products.BOX_W + 2 * 10, crop.getWidth(), 8, "crop with a 10 px margin");
  }

  private static BufferedImage read(Path dir, String name) throws Exception {
    return Products.decode(Files.readAllBytes(dir.resolve(name)));
  }
}
