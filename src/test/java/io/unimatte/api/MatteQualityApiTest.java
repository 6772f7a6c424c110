package io.unimatte.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import java.awt.image.BufferedImage;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code refine=} and {@code colour=} over HTTP, on a bright textured disk over a dark gradient (the
 * tiny model's alpha follows brightness, so the disk's soft rim and its mid-tone texture are uncertain).
 */
class MatteQualityApiTest {
  private static final int W = 240;
  private static final int H = 180;
  /** The refinement only touches pixels the model left between these (of 255): the edge band. */
  private static final int HARD_LOW = 5;
  private static final int HARD_HIGH = 250;

  @TempDir
  static Path models;
  private static TestServer server;
  private static BufferedImage photo;
  private static byte[] png;

  @BeforeAll
  static void start() throws Exception {
    TinyModel.write(models, "tiny");
    server = TestServer.start(models, "tiny", null, cfg -> { });
    photo = scene();
    png = MatteApiTest.encode(photo, "png");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static BufferedImage scene() {
    BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < H; y++) {
      for (int x = 0; x < W; x++) {
        double d = Math.hypot(x + 0.5 - 120, y + 0.5 - 90);
        double a = Math.min(1, Math.max(0, (60 - d) / 6 + 0.5)); // a 6-px soft rim
        double fr = 0.9 + 0.1 * Math.sin(x / 5.0);
        double fg = 0.75 + 0.2 * Math.cos(y / 7.0);
        double fb = 0.55 + 0.2 * Math.sin((x + y) / 9.0);
        double bg = 0.05 + 0.2 * x / W;
        img.setRGB(x, y, to8(a * fr + (1 - a) * bg) << 16 | to8(a * fg + (1 - a) * bg) << 8
            | to8(a * fb + (1 - a) * (bg + 0.1)));
      }
    }
    return img;
  }

  private static int to8(double v) {
    return (int) Math.round(Math.min(1, Math.max(0, v)) * 255);
  }

  private static BufferedImage get(String query) throws Exception {
    HttpResponse<byte[]> r = server.postRaw("/api/v1/matte?" + query, "image/png", png);
    assertEquals(200, r.statusCode(), new String(r.body()));
    return MatteApiTest.decode(r.body());
  }

  private static int alpha(BufferedImage img, int x, int y) {
    return img.getColorModel().hasAlpha() ? img.getRGB(x, y) >>> 24 : img.getRaster().getSample(x, y, 0);
  }

  @Test
  void offReproducesTheModelsMatteAndThePhotosRgb() throws Exception {
    BufferedImage matte = get("output=alpha&refine=false");
    BufferedImage cutout = get("refine=false&colour=false");
    for (int y = 0; y < H; y++) {
      for (int x = 0; x < W; x++) {
        int px = cutout.getRGB(x, y);
        assertEquals(alpha(matte, x, y), px >>> 24, "alpha at (" + x + "," + y + ")");
        if (px >>> 24 != 0) {
          assertEquals(photo.getRGB(x, y) & 0xFFFFFF, px & 0xFFFFFF, "RGB at (" + x + "," + y + ")");
        }
      }
    }
  }

  @Test
  void defaultChangesOnlyTheEdgeBand() throws Exception {
    BufferedImage raw = get("output=alpha&refine=false");
    BufferedImage refined = get("output=alpha");
    BufferedImage cutout = get("");
    int changedAlpha = 0;
    int changedRgb = 0;
    for (int y = 0; y < H; y++) {
      for (int x = 0; x < W; x++) {
        int a0 = alpha(raw, x, y);
        int a1 = alpha(refined, x, y);
        if (a0 <= HARD_LOW || a0 >= HARD_HIGH) {
          assertEquals(a0, a1, "alpha outside the edge band at (" + x + "," + y + ")");
        } else if (a0 != a1) {
          changedAlpha++;
        }
        int px = cutout.getRGB(x, y);
        assertEquals(a1, px >>> 24, "the cutout carries the refined matte at (" + x + "," + y + ")");
        if (px >>> 24 == 255) {
          assertEquals(photo.getRGB(x, y) & 0xFFFFFF, px & 0xFFFFFF, "opaque RGB at (" + x + "," + y + ")");
        } else if (px >>> 24 != 0 && (px & 0xFFFFFF) != (photo.getRGB(x, y) & 0xFFFFFF)) {
          changedRgb++;
        }
      }
    }
    assertTrue(changedAlpha > 100, "refinement changed " + changedAlpha + " edge pixels");
    assertTrue(changedRgb > 100, "colour estimation changed " + changedRgb + " edge pixels");
  }

  @Test
  void eachSwitchIsHonouredAndPartOfTheCacheKey() throws Exception {
    BufferedImage both = get("");
    BufferedImage noColour = get("color=false"); // US spelling
    BufferedImage noRefine = get("refine=0&colour=1");
    BufferedImage plain = get("refine=no&colour=off");
    // same matte with and without colour estimation, different RGB at the rim
    int rgbDiff = 0;
    int alphaDiff = 0;
    for (int y = 0; y < H; y++) {
      for (int x = 0; x < W; x++) {
        assertEquals(both.getRGB(x, y) >>> 24, noColour.getRGB(x, y) >>> 24);
        assertEquals(noRefine.getRGB(x, y) >>> 24, plain.getRGB(x, y) >>> 24);
        rgbDiff += (both.getRGB(x, y) & 0xFFFFFF) != (noColour.getRGB(x, y) & 0xFFFFFF) ? 1 : 0;
        alphaDiff += both.getRGB(x, y) >>> 24 != noRefine.getRGB(x, y) >>> 24 ? 1 : 0;
      }
    }
    assertTrue(rgbDiff > 0, "colour=false served the same RGB");
    assertTrue(alphaDiff > 0, "refine=false served the same matte");
  }

  @Test
  void badSwitchValuesAre400() throws Exception {
    for (String q : new String[] {"refine=maybe", "colour=2", "color=yes%21"}) {
      HttpResponse<byte[]> r = server.postRaw("/api/v1/matte?" + q, "image/png", png);
      assertEquals(400, r.statusCode(), q);
      assertNotEquals(-1, new String(r.body()).indexOf("invalid_parameter"), new String(r.body()));
    }
  }
}
