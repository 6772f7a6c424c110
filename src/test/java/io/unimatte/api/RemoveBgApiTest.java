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

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The remove.bg-compatible endpoint, in each input form, on a real server with the tiny model. */
class RemoveBgApiTest {
  @TempDir
  static Path models;
  private static TestServer server;
  private static Vertx origin;
  private static HttpServer originServer;
  private static byte[] bands;
  private static byte[] large;

  @BeforeAll
  static void start() throws Exception {
    TinyModel.write(models, "tiny");
    server = TestServer.start(models, "tiny", null, cfg -> cfg.getJsonObject("urlFetch").put("allowLoopback", true));
    bands = MatteApiTest.encode(MatteApiTest.bands(), "png");
    BufferedImage big = new BufferedImage(1000, 600, BufferedImage.TYPE_INT_RGB);
    big.getGraphics().fillRect(0, 0, 500, 600);
    large = MatteApiTest.encode(big, "png");
    origin = Vertx.vertx();
    originServer = origin.createHttpServer().requestHandler(r -> r.response().putHeader("Content-Type", "image/png")
        .end(Buffer.buffer(bands))).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
    origin.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static HttpResponse<byte[]> form(String body, String accept) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(server.uri("/v1.0/removebg"))
        .header("Content-Type", "application/x-www-form-urlencoded").header("X-Api-Key", "anything")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (accept != null) {
      b.header("Accept", accept);
    }
    return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static String b64(byte[] data) {
    return URLEncoder.encode(Base64.getEncoder().encodeToString(data), StandardCharsets.UTF_8);
  }

  @Test
  void imageFileMultipartGivesAPngWithRemoveBgHeaders() throws Exception {
    HttpResponse<byte[]> r = server.postMultipart("/v1.0/removebg", "image_file", "b.png", "image/png", bands);
    assertEquals(200, r.statusCode(), new String(r.body()));
    assertEquals("image/png", r.headers().firstValue("Content-Type").orElseThrow());
    assertEquals("200", r.headers().firstValue("X-Width").orElseThrow());
    assertEquals("120", r.headers().firstValue("X-Height").orElseThrow());
    assertEquals("other", r.headers().firstValue("X-Type").orElseThrow());
    assertEquals("0", r.headers().firstValue("X-Credits-Charged").orElseThrow());
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(r.body()));
    assertEquals(0, img.getRGB(190, 60) >>> 24, "background removed");
  }

  @Test
  void base64FormWithSizeChannelsAndJsonAnswer() throws Exception {
    HttpResponse<byte[]> r = form("image_file_b64=" + b64(large) + "&channels=alpha&type=person", "application/json");
    assertEquals(200, r.statusCode(), new String(r.body()));
    assertEquals("person", r.headers().firstValue("X-Type").orElseThrow());
    byte[] png = Base64.getDecoder().decode(new JsonObject(new String(r.body())).getJsonObject("data").getString("result_b64"));
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
    assertTrue((long) img.getWidth() * img.getHeight() <= 250_000, "size=preview by default: " + img.getWidth());
    assertEquals(1000.0 / 600, (double) img.getWidth() / img.getHeight(), 0.01);
    assertEquals(BufferedImage.TYPE_BYTE_GRAY, img.getType());

    HttpResponse<byte[]> full = form("image_file_b64=" + b64(large) + "&size=full&bg_color=00ff00", null);
    assertEquals("image/jpeg", full.headers().firstValue("Content-Type").orElseThrow(), "auto: jpg for an opaque result");
    assertEquals("1000", full.headers().firstValue("X-Width").orElseThrow());
  }

  @Test
  void imageUrlJsonAndZipFormat() throws Exception {
    String url = "http://127.0.0.1:" + originServer.actualPort() + "/p.png";
    HttpResponse<byte[]> r = server.postRaw("/v1.0/removebg", "application/json",
        new JsonObject().put("image_url", url).put("format", "zip").put("crop", true).encode().getBytes());
    assertEquals(200, r.statusCode(), new String(r.body()));
    assertEquals("application/zip", r.headers().firstValue("Content-Type").orElseThrow());
    List<String> names = new ArrayList<>();
    try (ZipInputStream z = new ZipInputStream(new ByteArrayInputStream(r.body()))) {
      ZipEntry e;
      while ((e = z.getNextEntry()) != null) {
        names.add(e.getName());
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(z.readAllBytes()));
        assertNotNull(img, e.getName());
        assertEquals(Integer.parseInt(r.headers().firstValue("X-Width").orElseThrow()), img.getWidth(), e.getName());
      }
    }
    assertEquals(List.of("color.jpg", "alpha.png"), names);
  }

  @Test
  void errorsUseTheRemoveBgShape() throws Exception {
    HttpResponse<byte[]> r = form("size=full", null);
    assertEquals(400, r.statusCode());
    JsonObject e = new JsonObject(new String(r.body())).getJsonArray("errors").getJsonObject(0);
    assertEquals("missing_image", e.getString("code"));
    assertTrue(e.getString("title").contains("image_file"));
    HttpResponse<byte[]> bad = form("image_file_b64=" + b64("not an image".getBytes()), null);
    assertEquals(415, bad.statusCode());
    assertEquals("unsupported_format", new JsonObject(new String(bad.body())).getJsonArray("errors").getJsonObject(0)
        .getString("code"));
    HttpResponse<byte[]> size = form("image_file_b64=" + b64(bands) + "&size=gigantic", null);
    assertEquals(400, size.statusCode());
    HttpResponse<byte[]> forbidden = form("image_url=" + URLEncoder.encode("http://169.254.169.254/", StandardCharsets.UTF_8), null);
    assertEquals("url_forbidden", new JsonObject(new String(forbidden.body())).getJsonArray("errors").getJsonObject(0)
        .getString("code"));
  }
}
