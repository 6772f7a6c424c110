package io.unimatte.api;

import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import io.unimatte.testing.WsClient;
import io.vertx.core.json.JsonArray;
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
import java.util.Arrays;
import java.util.Base64;

import static io.unimatte.api.Products.H;
import static io.unimatte.api.Products.W;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * roi, scale, position, background photos and WebP on our own ways in: {@code /api/v1/matte}, jobs and
 * the WebSocket submit, each answer decoded (remove.bg's route: RemoveBgParametersTest).
 */
class LayoutOptionsApiTest {
  @TempDir
  static Path models;
  private static TestServer server;
  private static byte[] product;
  private static byte[] background;

  @BeforeAll
  static void start() throws Exception {
    TinyModel.write(models, "tiny");
    server = TestServer.start(models, "tiny", null, cfg -> { });
    product = Products.png(Products.product());
    background = Products.png(Products.pattern(2 * W, H));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static HttpResponse<byte[]> send(String path, Object[] multipart) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(server.uri(path))
            .header("Content-Type", (String) multipart[0])
            .POST(HttpRequest.BodyPublishers.ofByteArray((byte[]) multipart[1])).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  private static HttpResponse<byte[]> matte(String query) throws Exception {
    return server.postRaw("/api/v1/matte?" + query, "image/png", product);
  }

  private static void assertHalfCanvasCentred(BufferedImage img) {
    int[] box = Products.alphaBox(img);
    assertEquals(Math.max(img.getWidth(), img.getHeight()) / 2, Math.max(box[2], box[3]), 4, Arrays.toString(box));
    assertEquals(img.getWidth() / 2.0, box[0] + box[2] / 2.0, 2, "centred: " + Arrays.toString(box));
    assertEquals(img.getHeight() / 2.0, box[1] + box[3] / 2.0, 2, "centred: " + Arrays.toString(box));
  }

  @Test
  void matteApiLaysOutAndReportsTheForeground() throws Exception {
    HttpResponse<byte[]> r = matte("scale=50%25");
    assertEquals(200, r.statusCode(), new String(r.body()));
    BufferedImage img = Products.decode(r.body());
    assertHalfCanvasCentred(img);
    int[] box = Products.alphaBox(img);
    assertArrayEquals(box, new int[] {header(r, "X-Foreground-Left"), header(r, "X-Foreground-Top"),
        header(r, "X-Foreground-Width"), header(r, "X-Foreground-Height")});
    // the grey matte is laid out the same way
    assertHalfCanvasCentred(grey(Products.decode(matte("scale=50%25&output=alpha").body())));
    // roi: nothing of the subject right of x = 100
    int[] roi = Products.alphaBox(Products.decode(matte("roi=0%25%200%25%2025%25%20100%25").body()));
    assertTrue(roi[2] > 0 && roi[0] + roi[2] <= W / 4, "roi clips the box: " + Arrays.toString(roi));
    // a repeat is a cache hit with the same headers
    HttpResponse<byte[]> again = matte("scale=50%25");
    assertEquals("hit", again.headers().firstValue("X-Cache").orElseThrow());
    assertEquals(r.headers().firstValue("X-Foreground-Width"), again.headers().firstValue("X-Foreground-Width"));
    assertEquals("invalid_parameter", MatteApiTest.error(matte("position=50%25%2050%25%2050%25")).getString("code"));
  }

  /** The grey matte as an image whose alpha is its grey value (for {@link Products#alphaBox}). */
  private static BufferedImage grey(BufferedImage matte) {
    BufferedImage out = new BufferedImage(matte.getWidth(), matte.getHeight(), BufferedImage.TYPE_INT_ARGB);
    for (int y = 0; y < matte.getHeight(); y++) {
      for (int x = 0; x < matte.getWidth(); x++) {
        out.setRGB(x, y, (matte.getRGB(x, y) & 0xFF) << 24);
      }
    }
    return out;
  }

  private static int header(HttpResponse<byte[]> r, String name) {
    return Integer.parseInt(r.headers().firstValue(name).orElseThrow());
  }

  @Test
  void matteApiTakesABackgroundPhotoAsFileOrBase64() throws Exception {
    BufferedImage pattern = Products.pattern(2 * W, H);
    HttpResponse<byte[]> file = send("/api/v1/matte", Products.multipart("image", "p.png", product,
        "bg_image", "bg.png", background));
    assertEquals(200, file.statusCode(), new String(file.body()));
    BufferedImage img = Products.decode(file.body());
    assertEquals(pattern.getRGB(390 + W / 2, 10) & 0xFFFFFF, img.getRGB(390, 10) & 0xFFFFFF);
    assertEquals(0xFFFFFF, img.getRGB(110, 150) & 0xFFFFFF);
    HttpResponse<byte[]> b64 = server.postRaw("/api/v1/matte", "application/json", new JsonObject()
        .put("image_b64", Base64.getEncoder().encodeToString(product))
        .put("bg_image", Base64.getEncoder().encodeToString(background)).encode().getBytes());
    assertEquals(200, b64.statusCode(), new String(b64.body()));
    assertArrayEquals(file.body(), b64.body(), "the same photo behind, however it came");
    assertEquals("hit", b64.headers().firstValue("X-Cache").orElseThrow(), "keyed by the photo's hash");
    HttpResponse<byte[]> both = send("/api/v1/matte?bg=ff0000", Products.multipart("image", "p.png", product,
        "bg_image", "bg.png", background));
    assertEquals("invalid_parameter", MatteApiTest.error(both).getString("code"));
  }

  @Test
  void webpLosslessHasThePngsAlphaAndQualityMakesItLossy() throws Exception {
    HttpResponse<byte[]> r = matte("format=webp");
    assertEquals(200, r.statusCode(), new String(r.body()));
    assertEquals("image/webp", r.headers().firstValue("Content-Type").orElseThrow());
    BufferedImage webp = Products.readWebp(r.body());
    BufferedImage png = Products.decode(matte("format=png").body());
    for (int y = 0; y < H; y++) {
      for (int x = 0; x < W; x++) {
        assertEquals(png.getRGB(x, y) >>> 24, webp.getRGB(x, y) >>> 24, "alpha at " + x + "," + y);
        if ((png.getRGB(x, y) >>> 24) == 255) {
          assertEquals(png.getRGB(x, y), webp.getRGB(x, y), "lossless colour at " + x + "," + y);
        }
      }
    }
    HttpResponse<byte[]> lossy = matte("format=webp&quality=60");
    BufferedImage l = Products.readWebp(lossy.body());
    assertEquals(W, l.getWidth());
    assertTrue((l.getRGB(110, 150) >>> 24) > 240 && (l.getRGB(350, 250) >>> 24) < 16, "alpha survives lossy");
    assertTrue(!Arrays.equals(r.body(), lossy.body()), "quality= changes the encoding");
    // opaque outputs (a background colour, the matte) are WebP too
    assertEquals(0xFF0000, Products.readWebp(matte("format=webp&bg=ff0000").body()).getRGB(350, 250) & 0xFFFFFF);
    assertEquals(W, Products.readWebp(matte("format=webp&output=alpha").body()).getWidth());
  }

  @Test
  void jobsAndWebSocketTakeTheSameOptions() throws Exception {
    HttpResponse<byte[]> created = send("/api/v1/jobs?scale=50%25&position=center&format=webp",
        Products.multipart("image", "p.png", product, "bg_image", "bg.png", background));
    assertEquals(202, created.statusCode(), new String(created.body()));
    String id = new JsonObject(new String(created.body())).getString("id");
    JsonObject item = null;
    long deadline = System.currentTimeMillis() + 30_000;
    while (item == null && System.currentTimeMillis() < deadline) {
      JsonObject job = new JsonObject(new String(server.get("/api/v1/jobs/" + id).body()));
      if (!"queued".equals(job.getString("status")) && !"running".equals(job.getString("status"))) {
        item = job.getJsonArray("items").getJsonObject(0);
      }
      Thread.sleep(50);
    }
    assertEquals("done", item.getString("stage"), item.encode());
    assertEquals("image/webp", item.getString("contentType"));
    assertEquals(1, new JsonObject(new String(created.body())).getJsonArray("items").size(), "bg_image is no item");
    BufferedImage job = Products.readWebp(server.get("/api/v1/jobs/" + id + "/items/0").body());
    BufferedImage pattern = Products.pattern(2 * W, H);
    assertEquals(pattern.getRGB(390 + W / 2, 10) & 0xFFFFFF, job.getRGB(390, 10) & 0xFFFFFF, "background photo");

    WsClient ws = WsClient.connect(server);
    try {
      ws.send(new JsonObject().put("type", "submit").put("scale", "50%").put("bg_image_url", "http://127.0.0.1:1/x")
          .put("images", new JsonArray().add(new JsonObject().put("name", "p.png")
              .put("data", Base64.getEncoder().encodeToString(product)))));
      JsonObject m;
      do {
        m = ws.next();
      } while (!"error".equals(m.getString("type")));
      assertEquals("url_forbidden", m.getString("code"), "the WebSocket fetches through the same guard");
      ws.send(new JsonObject().put("type", "submit").put("scale", "50%").put("roi", "0 0 400 300")
          .put("images", new JsonArray().add(new JsonObject().put("name", "p.png")
              .put("data", Base64.getEncoder().encodeToString(product)))));
      do {
        m = ws.next();
      } while (!"result".equals(m.getString("type")));
      assertHalfCanvasCentred(Products.decode(Base64.getDecoder().decode(m.getString("data"))));
    } finally {
      ws.ws.sendClose(java.net.http.WebSocket.NORMAL_CLOSURE, "bye").join();
    }
  }
}
