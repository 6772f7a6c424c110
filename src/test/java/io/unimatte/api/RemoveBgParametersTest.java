package io.unimatte.api;

import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

import static io.unimatte.api.Products.BOX_W;
import static io.unimatte.api.Products.H;
import static io.unimatte.api.Products.W;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 22's remove.bg parameters over HTTP, each answer decoded: roi, scale, position, background
 * photos (file and URL), the X-Foreground-* headers, WebP, the no-effect parameters, unknown ones,
 * and /v1.0/account. The tiny model keeps white and drops black, so {@link Products#product()} has one
 * {@value Products#BOX_W}×{@value Products#BOX_H} subject on a {@value Products#W}×{@value Products#H} photo.
 */
class RemoveBgParametersTest {
  /** Pixels the matte's edge may stray from the drawn box (model at 32 px, upscaled and refined). */
  private static final int EDGE = 4;
  @TempDir
  static Path models;
  private static TestServer server;
  private static Vertx origin;
  private static HttpServer originServer;
  private static byte[] product;
  private static byte[] background;

  @BeforeAll
  static void start() throws Exception {
    TinyModel.write(models, "tiny");
    server = TestServer.start(models, "tiny", null, cfg -> cfg.getJsonObject("urlFetch").put("allowLoopback", true));
    product = Products.png(Products.product());
    // twice as wide as the photo: cover-fitting keeps its middle 400×300 unscaled
    background = Products.png(Products.pattern(2 * W, H));
    origin = Vertx.vertx();
    originServer = origin.createHttpServer().requestHandler(r -> r.response().putHeader("Content-Type", "image/png")
        .end(Buffer.buffer(r.path().startsWith("/bg") ? background : product)))
        .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
    origin.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** The product posted as image_file with the given extra fields (name, value pairs), size=full. */
  private static HttpResponse<byte[]> post(byte[] image, Object... fields) throws Exception {
    Object[] parts = new Object[6 + fields.length / 2 * 3];
    parts[0] = "image_file";
    parts[1] = "p.png";
    parts[2] = image;
    parts[3] = "size";
    parts[4] = null;
    parts[5] = "full";
    for (int i = 0, j = 6; i < fields.length; i += 2, j += 3) {
      parts[j] = fields[i];
      parts[j + 1] = fields[i + 1] instanceof byte[] ? "f.png" : null;
      parts[j + 2] = fields[i + 1];
    }
    Object[] mp = Products.multipart(parts);
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(server.uri("/v1.0/removebg"))
        .header("Content-Type", (String) mp[0]).POST(HttpRequest.BodyPublishers.ofByteArray((byte[]) mp[1])).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  private static BufferedImage ok(HttpResponse<byte[]> r) throws Exception {
    assertEquals(200, r.statusCode(), new String(r.body()));
    return Products.decode(r.body());
  }

  private static int header(HttpResponse<byte[]> r, String name) {
    return Integer.parseInt(r.headers().firstValue(name).orElseThrow(() -> new AssertionError("no " + name)));
  }

  private static int[] foregroundHeaders(HttpResponse<byte[]> r) {
    return new int[] {header(r, "X-Foreground-Left"), header(r, "X-Foreground-Top"), header(r, "X-Foreground-Width"),
        header(r, "X-Foreground-Height")};
  }

  private static JsonObject removeBgError(HttpResponse<byte[]> r) {
    return new JsonObject(new String(r.body())).getJsonArray("errors").getJsonObject(0);
  }

  @Test
  void foregroundHeadersAreTheAlphasBoundingBox() throws Exception {
    HttpResponse<byte[]> r = post(product);
    int[] box = Products.alphaBox(ok(r));
    assertArrayEquals(box, foregroundHeaders(r));
    assertEquals(Products.BOX_X, box[0], EDGE);
    assertEquals(BOX_W, box[2], 2 * EDGE);
    assertEquals(Products.BOX_H, box[3], 2 * EDGE);
    // the JSON answer names them as remove.bg does
    HttpResponse<byte[]> json = HttpClient.newHttpClient().send(HttpRequest.newBuilder(server.uri("/v1.0/removebg"))
        .header("Content-Type", "application/json").header("Accept", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("image_file_b64",
            Base64.getEncoder().encodeToString(product)).put("size", "full").put("crop", true).encode())).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    JsonObject data = new JsonObject(new String(json.body())).getJsonObject("data");
    BufferedImage cropped = Products.decode(Base64.getDecoder().decode(data.getString("result_b64")));
    int[] c = Products.alphaBox(cropped);
    assertArrayEquals(c, new int[] {data.getInteger("foreground_left"), data.getInteger("foreground_top"),
        data.getInteger("foreground_width"), data.getInteger("foreground_height")});
    assertArrayEquals(new int[] {0, 0, cropped.getWidth(), cropped.getHeight()}, c, "crop: the box is the image");
  }

  @Test
  void roiZeroesAlphaOutsideTheRegion() throws Exception {
    byte[] two = Products.png(Products.twoProducts());
    BufferedImage all = ok(post(two));
    assertTrue((all.getRGB(310, 60) >>> 24) > 200, "without roi the second square is kept");
    for (String roi : new String[] {"0% 0% 50% 100%", "0px 0px 200px 300px", "0 0 200 300"}) {
      BufferedImage img = ok(post(two, "roi", roi));
      for (int y = 0; y < H; y++) {
        for (int x = W / 2; x < W; x++) {
          assertEquals(0, img.getRGB(x, y) >>> 24, "roi=" + roi + ": alpha outside at " + x + "," + y);
        }
      }
      assertTrue((img.getRGB(110, 150) >>> 24) > 200, "roi=" + roi + ": the subject inside is kept");
    }
    assertEquals("invalid_parameter", removeBgError(post(two, "roi", "10% 10% 5% 90%")).getString("code"));
    assertEquals("invalid_parameter", removeBgError(post(two, "roi", "10% 10%")).getString("code"));
  }

  @Test
  void scaleFiftyPercentIsHalfTheCanvasLongerSideCentred() throws Exception {
    HttpResponse<byte[]> r = post(product, "scale", "50%");
    BufferedImage img = ok(r);
    assertEquals(W, img.getWidth(), "the canvas keeps the photo's size");
    int[] box = Products.alphaBox(img);
    assertArrayEquals(box, foregroundHeaders(r));
    // the subject is taller than wide: its height becomes half of the canvas's longer side (400)
    assertEquals(W / 2, box[3], EDGE, "box " + java.util.Arrays.toString(box));
    int[] unscaled = Products.alphaBox(ok(post(product)));
    assertEquals(unscaled[2] * (W / 2.0) / unscaled[3], box[2], 2, "aspect kept");
    assertEquals(W / 2.0, box[0] + box[2] / 2.0, 2, "centred horizontally");
    assertEquals(H / 2.0, box[1] + box[3] / 2.0, 2, "centred vertically");
    // position moves it: flush to the top-left corner, then 100% 100% to the bottom-right
    int[] tl = Products.alphaBox(ok(post(product, "scale", "50%", "position", "0% 0%")));
    assertEquals(0, tl[0], 1);
    assertEquals(0, tl[1], 1);
    int[] br = Products.alphaBox(ok(post(product, "scale", "50%", "position", "100%")));
    assertEquals(W, br[0] + br[2], 1);
    assertEquals(H, br[1] + br[3], 1);
    assertEquals("invalid_parameter", removeBgError(post(product, "scale", "5%")).getString("code"));
    assertEquals("invalid_parameter", removeBgError(post(product, "position", "left")).getString("code"));
  }

  @Test
  void positionAloneMovesTheSubjectAtItsSize() throws Exception {
    int[] original = Products.alphaBox(ok(post(product)));
    int[] centred = Products.alphaBox(ok(post(product, "position", "center")));
    assertEquals(original[2], centred[2], 1, "same width");
    assertEquals(original[3], centred[3], 1, "same height");
    assertEquals(W / 2.0, centred[0] + centred[2] / 2.0, 2);
    assertEquals(H / 2.0, centred[1] + centred[3] / 2.0, 2);
    // with crop, the canvas is the subject's box: scale=50% leaves a margin around it
    BufferedImage cropped = ok(post(product, "crop", "true", "scale", "50%"));
    int[] c = Products.alphaBox(cropped);
    assertEquals(Math.max(cropped.getWidth(), cropped.getHeight()) / 2.0, Math.max(c[2], c[3]), EDGE);
  }

  @Test
  void backgroundFileFillsEverythingFarFromTheSubject() throws Exception {
    HttpResponse<byte[]> r = post(product, "bg_image_file", background, "format", "png");
    BufferedImage img = ok(r);
    assertEquals("image/png", r.headers().firstValue("Content-Type").orElseThrow());
    assertTrue(!img.getColorModel().hasAlpha(), "an opaque photo behind: an opaque PNG");
    BufferedImage bg = Products.pattern(2 * W, H);
    int offset = W / 2; // cover-fit: the middle of the twice-as-wide background
    for (int[] p : new int[][] {{390, 10}, {10, 290}, {300, 150}, {5, 5}, {399, 299}, {250, 250}}) {
      assertEquals(bg.getRGB(p[0] + offset, p[1]) & 0xFFFFFF, img.getRGB(p[0], p[1]) & 0xFFFFFF,
          "background pixel at " + p[0] + "," + p[1]);
    }
    assertEquals(0xFFFFFF, img.getRGB(110, 150) & 0xFFFFFF, "the subject over it");
    assertArrayEquals(new int[] {header(r, "X-Foreground-Left"), header(r, "X-Foreground-Top")},
        new int[] {header(post(product), "X-Foreground-Left"), header(post(product), "X-Foreground-Top")},
        "the headers still give the subject's box: the alpha before compositing");
    // format=auto: nothing transparent is left, so JPEG, like remove.bg
    HttpResponse<byte[]> auto = post(product, "bg_image_file", background);
    assertEquals("image/jpeg", auto.headers().firstValue("Content-Type").orElseThrow());
    int px = ok(auto).getRGB(390, 10);
    int want = bg.getRGB(390 + offset, 10);
    for (int shift = 0; shift < 24; shift += 8) {
      assertEquals((want >> shift) & 0xFF, (px >> shift) & 0xFF, 12, "jpeg pixel channel " + shift);
    }
    assertEquals("invalid_parameter", removeBgError(post(product, "bg_image_file", background, "bg_color", "red"))
        .getString("code"));
    HttpResponse<byte[]> broken = post(product, "bg_image_file", "not an image".getBytes());
    assertEquals(415, broken.statusCode());
    assertTrue(removeBgError(broken).getString("title").startsWith("background image"), new String(broken.body()));
  }

  @Test
  void backgroundUrlGoesThroughTheGuardedFetcher() throws Exception {
    String url = "http://127.0.0.1:" + originServer.actualPort() + "/bg.png";
    BufferedImage img = ok(post(product, "bg_image_url", url, "format", "png"));
    assertEquals(Products.pattern(2 * W, H).getRGB(390 + W / 2, 10) & 0xFFFFFF, img.getRGB(390, 10) & 0xFFFFFF);
    HttpResponse<byte[]> forbidden = post(product, "bg_image_url", "http://169.254.169.254/latest");
    assertEquals("url_forbidden", removeBgError(forbidden).getString("code"));
    assertTrue(removeBgError(forbidden).getString("title").startsWith("bg_image_url"));
  }

  @Test
  void webpCutoutHasThePngsAlpha() throws Exception {
    HttpResponse<byte[]> r = post(product, "format", "webp");
    assertEquals(200, r.statusCode(), new String(r.body()));
    assertEquals("image/webp", r.headers().firstValue("Content-Type").orElseThrow());
    BufferedImage webp = Products.readWebp(r.body());
    BufferedImage png = ok(post(product, "format", "png"));
    for (int y = 0; y < H; y++) {
      for (int x = 0; x < W; x++) {
        assertEquals(png.getRGB(x, y) >>> 24, webp.getRGB(x, y) >>> 24, "alpha at " + x + "," + y);
      }
    }
  }

  @Test
  void noEffectParametersAreAcceptedAndUnknownOnesNamed() throws Exception {
    HttpResponse<byte[]> r = post(product, "type_level", "2", "add_shadow", "true", "semitransparency", "true",
        "shadow_type", "drop", "shadow_opacity", "50");
    assertArrayEquals(Products.alphaBox(ok(post(product))), Products.alphaBox(ok(r)), "no effect");
    assertEquals("invalid_parameter", removeBgError(post(product, "type_level", "9")).getString("code"));
    HttpResponse<byte[]> unknown = post(product, "bg_blur", "5", "colour_boost", "true");
    assertEquals(400, unknown.statusCode());
    JsonObject e = removeBgError(unknown);
    assertEquals("unknown_parameter", e.getString("code"));
    assertTrue(e.getString("title").contains("'bg_blur'") && e.getString("title").contains("'colour_boost'"),
        e.getString("title"));
    assertEquals("unknown_parameter", removeBgError(server.postRaw("/v1.0/removebg?foo=1", "image/png", product))
        .getString("code"), "the query string counts too");
  }

  @Test
  void accountAnswersRemoveBgsShape() throws Exception {
    HttpResponse<byte[]> r = server.get("/v1.0/account");
    assertEquals(200, r.statusCode());
    JsonObject attributes = new JsonObject(new String(r.body())).getJsonObject("data").getJsonObject("attributes");
    assertTrue(attributes.getJsonObject("credits").getLong("total") >= 1_000_000);
    assertTrue(attributes.getJsonObject("api").getLong("free_calls") >= 1_000_000);
  }

  @Test
  void unknownParametersCanBeIgnoredByConfiguration() throws Exception {
    try (TestServer lenient = TestServer.start(models, "tiny", null,
        cfg -> cfg.getJsonObject("removebg").put("ignoreUnknownParameters", true))) {
      HttpResponse<byte[]> r = lenient.postRaw("/v1.0/removebg?bg_blur=5&size=full", "image/png", product);
      assertEquals(200, r.statusCode(), new String(r.body()));
    }
  }

  @Test
  void webpRefusedClearlyWhereItCannotBeWritten() throws Exception {
    try (TestServer off = TestServer.start(models, "tiny", null,
        cfg -> cfg.getJsonObject("imaging").put("webp", false))) {
      HttpResponse<byte[]> r = off.postRaw("/v1.0/removebg?format=webp", "image/png", product);
      assertEquals(501, r.statusCode(), new String(r.body()));
      assertEquals("output_format_unavailable", removeBgError(r).getString("code"));
      HttpResponse<byte[]> matte = off.postRaw("/api/v1/matte?format=webp", "image/png", product);
      assertEquals(501, matte.statusCode());
      assertEquals("output_format_unavailable", MatteApiTest.error(matte).getString("code"));
      assertEquals(200, off.postRaw("/api/v1/matte?format=png", "image/png", product).statusCode(), "the rest works");
    }
  }
}
