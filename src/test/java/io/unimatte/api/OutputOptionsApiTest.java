package io.unimatte.api;

import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.http.HttpResponse;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Output options over HTTP on the band image (white | grey | black; the tiny model makes the
 * white third opaque, the black third transparent).
 */
class OutputOptionsApiTest {
  @TempDir
  static Path models;
  private static TestServer server;
  private static byte[] bands;

  @BeforeAll
  static void start() throws Exception {
    TinyModel.write(models, "tiny");
    server = TestServer.start(models, "tiny", null, cfg -> { });
    bands = MatteApiTest.encode(MatteApiTest.bands(), "png");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static HttpResponse<byte[]> post(String query) throws Exception {
    return server.postRaw("/api/v1/matte?" + query, "image/png", bands);
  }

  private static BufferedImage image(HttpResponse<byte[]> r) throws Exception {
    assertEquals(200, r.statusCode(), new String(r.body()));
    return ImageIO.read(new ByteArrayInputStream(r.body()));
  }

  @Test
  void pngCutoutIsTrueRgba() throws Exception {
    byte[] png = post("output=rgba").body();
    assertEquals(6, png[25], "IHDR colour type 6: RGBA, no palette");
    assertEquals(8, png[24], "8 bits per channel");
  }

  @Test
  void jpgIsOnWhiteUnlessABackgroundIsGiven() throws Exception {
    HttpResponse<byte[]> r = post("format=jpg");
    assertEquals("image/jpeg", r.headers().firstValue("Content-Type").orElseThrow());
    BufferedImage img = image(r);
    int rgb = img.getRGB(5 * img.getWidth() / 6, img.getHeight() / 2) & 0xFFFFFF;
    assertTrue((rgb & 0xFF) > 240 && ((rgb >> 16) & 0xFF) > 240, "transparent part on white: " + Integer.toHexString(rgb));
  }

  @Test
  void solidBackgroundColour() throws Exception {
    BufferedImage img = image(post("bg=ff0000"));
    assertFalse(img.getColorModel().hasAlpha(), "an opaque background gives an opaque PNG");
    assertEquals(0xFF0000, img.getRGB(5 * img.getWidth() / 6, 60) & 0xFFFFFF, "background where alpha is 0");
    assertEquals(0xFFFFFF, img.getRGB(img.getWidth() / 6, 60) & 0xFFFFFF, "subject where alpha is 255");
    BufferedImage translucent = image(post("bg=0000ff80"));
    int px = translucent.getRGB(5 * translucent.getWidth() / 6, 60);
    assertEquals(0x80, px >>> 24, 1);
    assertEquals(0x0000FF, px & 0xFFFFFF);
  }

  @Test
  void cropToSubjectWithMargins() throws Exception {
    BufferedImage tight = image(post("crop=true"));
    // subject = white + grey thirds (alpha > threshold), i.e. about 2/3 of 200 px
    assertTrue(Math.abs(tight.getWidth() - 133) <= 2, "width " + tight.getWidth());
    assertEquals(120, tight.getHeight());
    BufferedImage px = image(post("crop=true&crop_margin=10px"));
    assertEquals(tight.getWidth() + 10, px.getWidth(), "margin on the right; the left edge is the image's");
    BufferedImage pct = image(post("crop=true&crop_margin=10%25"));
    assertEquals(tight.getWidth() + Math.round(tight.getWidth() * 0.1f), pct.getWidth());
  }

  @Test
  void sizeBoundsKeepAspectAndNeverUpscale() throws Exception {
    HttpResponse<byte[]> r = post("size=100x100");
    BufferedImage img = image(r);
    assertEquals(100, img.getWidth());
    assertEquals(60, img.getHeight());
    assertEquals("100", r.headers().firstValue("X-Width").orElseThrow());
    assertEquals(200, image(post("size=preview")).getWidth(), "already under 0.25 MP");
    assertEquals(200, image(post("size=4000x4000")).getWidth(), "never upscaled");
  }

  @Test
  void badOptionsAreExplained() throws Exception {
    assertEquals("invalid_parameter", MatteApiTest.error(post("format=gif")).getString("code"));
    HttpResponse<byte[]> bg = post("bg=zzz");
    assertEquals(400, bg.statusCode());
    assertTrue(MatteApiTest.error(bg).getString("message").contains("bg"));
    assertEquals("invalid_parameter", MatteApiTest.error(post("size=huge")).getString("code"));
    assertEquals("invalid_parameter", MatteApiTest.error(post("crop_margin=-3")).getString("code"));
    assertEquals("unknown_model", MatteApiTest.error(post("model=rvm")).getString("code"));
    assertEquals(200, post("model=tiny").statusCode());
  }
}
