package io.unimatte.api;

import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Black-box tests of {@code POST /api/v1/matte} and {@code /health} on a real server running the
 * tiny TF model (alpha = sigmoid of luminance), so expected alpha values are known exactly.
 */
class MatteApiTest {
  private static final int W = 200;
  private static final int H = 120;
  /** Left third white, middle third grey, right third black. */
  private static final int GREY = 140;
  private static TestServer server;

  @TempDir
  static Path models;

  @BeforeAll
  static void start() throws Exception {
    TinyModel.write(models, "tiny");
    server = TestServer.start(models, "tiny", null, cfg -> { });
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      assertEquals(0, server.blockedThreadWarnings(), "Vert.x reported a blocked event loop");
      server.close();
    }
  }

  static BufferedImage bands() {
    BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < H; y++) {
      for (int x = 0; x < W; x++) {
        int v = x < W / 3 ? 255 : x < 2 * W / 3 ? GREY : 0;
        img.setRGB(x, y, (v << 16) | (v << 8) | v);
      }
    }
    return img;
  }

  static byte[] encode(BufferedImage img, String format) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BufferedImage src = img;
    if (format.equals("gif")) {
      // the GIF writer wants an indexed image: convert so colours survive exactly
      src = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_BYTE_INDEXED);
      src.getGraphics().drawImage(img, 0, 0, null);
    }
    assertTrue(ImageIO.write(src, format, out), "no ImageIO writer for " + format);
    return out.toByteArray();
  }

  static BufferedImage decode(byte[] png) throws IOException {
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
    assertNotNull(img, "response is not a decodable image");
    return img;
  }

  static JsonObject error(HttpResponse<byte[]> r) {
    assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
    return new JsonObject(new String(r.body())).getJsonObject("error");
  }

  @Test
  void repeatedRequestIsAnsweredFromTheCacheByteForByte() throws Exception {
    BufferedImage img = bands();
    img.setRGB(1, 1, 0x123456); // an image no other test sends
    byte[] png = encode(img, "png");
    long submittedBefore = new JsonObject(new String(server.get("/health").body())).getLong("submitted");
    HttpResponse<byte[]> miss = server.postRaw("/api/v1/matte", "image/png", png);
    HttpResponse<byte[]> hit = server.postRaw("/api/v1/matte", "image/png", png);
    assertEquals("miss", miss.headers().firstValue("X-Cache").orElseThrow());
    assertEquals("hit", hit.headers().firstValue("X-Cache").orElseThrow());
    assertTrue(Arrays.equals(miss.body(), hit.body()), "hit is byte-identical to the miss");
    assertEquals(submittedBefore + 1, new JsonObject(new String(server.get("/health").body())).getLong("submitted"),
        "the hit never reached the inference queue");
    HttpResponse<byte[]> other = server.postRaw("/api/v1/matte?output=alpha", "image/png", png);
    assertEquals("miss", other.headers().firstValue("X-Cache").orElseThrow(), "other options, other entry");
  }

  @Test
  void healthIsReadyWithModelAndDevice() throws Exception {
    HttpResponse<byte[]> r = server.get("/health");
    assertEquals(200, r.statusCode());
    JsonObject j = new JsonObject(new String(r.body()));
    assertEquals("ready", j.getString("status"));
    assertEquals("tiny", j.getString("model"));
    assertEquals("cpu", j.getString("device"));
  }

  @Test
  void cutoutKeepsRgbAndCarriesTheModelsAlpha() throws Exception {
    // refinement and colour estimation off: the model's own matte and the photo's RGB, untouched
    HttpResponse<byte[]> r = server.postMultipart("/api/v1/matte?refine=false&colour=false", "image", "bands.png", "image/png",
        encode(bands(), "png"));
    assertEquals(200, r.statusCode(), new String(r.body()));
    assertEquals("image/png", r.headers().firstValue("Content-Type").orElseThrow());
    assertEquals(String.valueOf(W), r.headers().firstValue("X-Width").orElseThrow());
    assertEquals(String.valueOf(H), r.headers().firstValue("X-Height").orElseThrow());
    assertEquals("tiny", r.headers().firstValue("X-Model").orElseThrow());
    BufferedImage out = decode(r.body());
    assertEquals(W, out.getWidth());
    assertEquals(H, out.getHeight());
    assertTrue(out.getColorModel().hasAlpha(), "cutout must be RGBA");
    int white = out.getRGB(W / 6, H / 2);
    int grey = out.getRGB(W / 2, H / 2);
    int black = out.getRGB(5 * W / 6, H / 2);
    assertEquals(0xFFFFFF, white & 0xFFFFFF, "original RGB kept");
    assertEquals(GREY, grey & 0xFF, "original RGB kept");
    assertEquals(255, white >>> 24, 1);
    assertEquals(Math.round(255 * TinyModel.expectedAlpha(GREY, GREY, GREY)), grey >>> 24, 3);
    assertEquals(0, black >>> 24, 1);
  }

  @Test
  void defaultCutoutKeepsTheOpaqueInteriorsRgbExactly() throws Exception {
    BufferedImage in = bands();
    HttpResponse<byte[]> r = server.postMultipart("/api/v1/matte", "image", "bands.png", "image/png",
        encode(in, "png"));
    assertEquals(200, r.statusCode(), new String(r.body()));
    BufferedImage out = decode(r.body());
    int opaque = 0;
    for (int y = 0; y < H; y++) {
      for (int x = 0; x < W; x++) {
        int px = out.getRGB(x, y);
        if (px >>> 24 == 255) {
          opaque++;
          assertEquals(in.getRGB(x, y) & 0xFFFFFF, px & 0xFFFFFF, "RGB at opaque (" + x + "," + y + ")");
        }
      }
    }
    assertTrue(opaque >= W * H / 4, "most of the white third is opaque: " + opaque);
  }

  @Test
  void alphaOutputIsAGreyMatte() throws Exception {
    HttpResponse<byte[]> r = server.postMultipart("/api/v1/matte?output=alpha&refine=false", "image", "b.png", "image/png",
        encode(bands(), "png"));
    assertEquals(200, r.statusCode(), new String(r.body()));
    BufferedImage out = decode(r.body());
    assertEquals(BufferedImage.TYPE_BYTE_GRAY, out.getType());
    assertEquals(255, out.getRaster().getSample(W / 6, H / 2, 0), 1);
    assertEquals(Math.round(255 * TinyModel.expectedAlpha(GREY, GREY, GREY)),
        out.getRaster().getSample(W / 2, H / 2, 0), 3);
    assertEquals(0, out.getRaster().getSample(5 * W / 6, H / 2, 0), 1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"png", "jpeg", "bmp", "gif", "tiff"})
  void everyWritableFormatIsAccepted(String format) throws Exception {
    HttpResponse<byte[]> r = server.postRaw("/api/v1/matte?output=alpha", "image/" + format,
        encode(bands(), format));
    assertEquals(200, r.statusCode(), format + ": " + new String(r.body()));
    BufferedImage out = decode(r.body());
    assertEquals(W, out.getWidth());
    assertTrue(out.getRaster().getSample(W / 6, H / 2, 0) > 250, format);
    assertTrue(out.getRaster().getSample(5 * W / 6, H / 2, 0) < 5, format);
  }

  @Test
  void webpIsAccepted() throws Exception {
    byte[] webp;
    try (var in = MatteApiTest.class.getResourceAsStream("/imaging/sample.webp")) {
      assertNotNull(in, "test resource imaging/sample.webp");
      webp = in.readAllBytes();
    }
    HttpResponse<byte[]> r = server.postMultipart("/api/v1/matte", "image", "s.webp", "image/webp", webp);
    assertEquals(200, r.statusCode(), new String(r.body()));
    BufferedImage out = decode(r.body());
    assertEquals(r.headers().firstValue("X-Width").orElseThrow(), String.valueOf(out.getWidth()));
  }

  @Test
  void exifOrientationIsHonoured() throws Exception {
    byte[] jpeg = ExifJpeg.withOrientation(encode(bands(), "jpeg"), 6);
    HttpResponse<byte[]> r = server.postRaw("/api/v1/matte?output=alpha", "image/jpeg", jpeg);
    assertEquals(200, r.statusCode(), new String(r.body()));
    BufferedImage out = decode(r.body());
    // orientation 6 = rotate 90° clockwise: the white left band becomes the top band
    assertEquals(H, out.getWidth());
    assertEquals(W, out.getHeight());
    assertTrue(out.getRaster().getSample(H / 2, W / 6, 0) > 250);
    assertTrue(out.getRaster().getSample(H / 2, 5 * W / 6, 0) < 5);
  }

  @Test
  void corruptImageIs422WithCode() throws Exception {
    byte[] png = encode(bands(), "png");
    byte[] truncated = Arrays.copyOf(png, png.length / 3);
    HttpResponse<byte[]> r = server.postMultipart("/api/v1/matte", "image", "x.png", "image/png", truncated);
    assertEquals(422, r.statusCode());
    assertEquals("corrupt_image", error(r).getString("code"));
    assertServing();
  }

  @Test
  void nonImageIs415WithCode() throws Exception {
    HttpResponse<byte[]> r = server.postMultipart("/api/v1/matte", "image", "notes.jpg", "image/jpeg",
        "this is a text file, not a photo\n".getBytes());
    assertEquals(415, r.statusCode());
    assertEquals("unsupported_format", error(r).getString("code"));
    assertServing();
  }

  @Test
  void emptyUploadIs400WithCode() throws Exception {
    HttpResponse<byte[]> r = server.postMultipart("/api/v1/matte", "image", "empty.png", "image/png", new byte[0]);
    assertEquals(400, r.statusCode());
    assertEquals("empty_input", error(r).getString("code"));
    assertServing();
  }

  @Test
  void missingFieldAndBadParametersAreExplained() throws Exception {
    HttpResponse<byte[]> r = server.postMultipart("/api/v1/matte", "photo", "a.png", "image/png",
        encode(bands(), "png"));
    assertEquals(400, r.statusCode());
    assertEquals("missing_image", error(r).getString("code"));
    assertTrue(error(r).getString("message").contains("image"));

    r = server.postRaw("/api/v1/matte?output=sepia", "image/png", encode(bands(), "png"));
    assertEquals(400, r.statusCode());
    assertEquals("invalid_parameter", error(r).getString("code"));

    r = server.postRaw("/api/v1/matte", "text/plain", "hello".getBytes());
    assertEquals(415, r.statusCode());
    assertEquals("unsupported_media_type", error(r).getString("code"));

    r = server.get("/api/v1/nothing-here");
    assertEquals(404, r.statusCode());
    assertEquals("not_found", error(r).getString("code"));
  }

  private static void assertServing() throws Exception {
    HttpResponse<byte[]> ok = server.postRaw("/api/v1/matte?output=alpha", "image/png", encode(bands(), "png"));
    assertEquals(200, ok.statusCode(), "server must keep serving after a bad request");
  }
}
