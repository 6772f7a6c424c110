package io.unimatte.api;

import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Hostile and broken inputs, all generated here: each gets its own 4xx code, and the server
 * answers a normal request right after.
 */
class BadInputTest {
  @TempDir
  static Path models;
  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    TinyModel.write(models, "tiny");
    server = TestServer.start(models, "tiny", null, cfg -> {
      cfg.getJsonObject("jobs").put("maxZipBytes", 10_000_000);
      cfg.getJsonObject("websocket").put("maxMessageBytes", 10_000);
    });
  }

  @AfterAll
  static void stop() throws Exception {
    assertEquals(0, server.blockedThreadWarnings(), "no blocked event loop under bad input");
    server.close();
  }

  private static void expect(int status, String code, HttpResponse<byte[]> r) throws Exception {
    assertEquals(status, r.statusCode(), new String(r.body()));
    assertEquals(code, MatteApiTest.error(r).getString("code"));
    HttpResponse<byte[]> ok = server.postRaw("/api/v1/matte?output=alpha", "image/png",
        MatteApiTest.encode(MatteApiTest.bands(), "png"));
    assertEquals(200, ok.statusCode(), "the server answers a normal request right after");
  }

  private static HttpResponse<byte[]> upload(byte[] data) throws Exception {
    return server.postMultipart("/api/v1/matte", "image", "upload.bin", "application/octet-stream", data);
  }

  private static byte[] chunk(String type, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(12 + data.length);
    b.putInt(data.length).put(type.getBytes()).put(data);
    CRC32 crc = new CRC32();
    crc.update(type.getBytes());
    crc.update(data);
    b.putInt((int) crc.getValue());
    return b.array();
  }

  /** A PNG whose header claims w×h RGBA, with a token IDAT. */
  static byte[] pngClaiming(int w, int h) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
    out.writeBytes(chunk("IHDR", ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) 8).put((byte) 6)
        .put((byte) 0).put((byte) 0).put((byte) 0).array()));
    out.writeBytes(chunk("IDAT", new byte[] {0x78, (byte) 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}));
    out.writeBytes(chunk("IEND", new byte[0]));
    return out.toByteArray();
  }

  /** A 1×1 GIF with {@code frames} frames (15 bytes each): a frame bomb. */
  static byte[] gifWithFrames(int frames) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes("GIF89a".getBytes());
    out.writeBytes(new byte[] {1, 0, 1, 0, (byte) 0x80, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF});
    for (int i = 0; i < frames; i++) {
      // image descriptor 1×1 at 0,0; LZW min code 2; one sub-block: clear, index 0, end
      out.writeBytes(new byte[] {0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0});
    }
    out.write(0x3B);
    return out.toByteArray();
  }

  @Test
  void truncatedJpegAndPng() throws Exception {
    byte[] jpeg = MatteApiTest.encode(MatteApiTest.bands(), "jpeg");
    expect(422, "corrupt_image", upload(Arrays.copyOf(jpeg, jpeg.length * 2 / 5)));
    byte[] png = MatteApiTest.encode(MatteApiTest.bands(), "png");
    expect(422, "corrupt_image", upload(Arrays.copyOf(png, png.length / 2)));
  }

  @Test
  void decompressionBombHeaderIsRefusedBeforeDecoding() throws Exception {
    expect(413, "image_too_large", upload(pngClaiming(100_000, 100_000)));
  }

  @Test
  void zeroAndOnePixelImages() throws Exception {
    expect(422, "invalid_dimensions", upload(pngClaiming(0, 0)));
    HttpResponse<byte[]> one = upload(MatteApiTest.encode(new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB), "png"));
    assertEquals(200, one.statusCode(), new String(one.body()));
    assertEquals("1", one.headers().firstValue("X-Width").orElseThrow());
  }

  @Test
  void cmykJpegAnd16BitPngAreServed() throws Exception {
    byte[] cmyk;
    try (var in = BadInputTest.class.getResourceAsStream("/imaging/cmyk.jpg")) {
      assertNotNull(in);
      cmyk = in.readAllBytes();
    }
    assertEquals(200, upload(cmyk).statusCode());
    BufferedImage deep = new BufferedImage(50, 40, BufferedImage.TYPE_USHORT_GRAY);
    deep.getGraphics().fillRect(0, 0, 25, 40);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(deep, "png", out);
    assertEquals(16, out.toByteArray()[24], "a 16-bit PNG");
    HttpResponse<byte[]> r = upload(out.toByteArray());
    assertEquals(200, r.statusCode(), new String(r.body()));
  }

  @Test
  void tenThousandFrameGif() throws Exception {
    expect(413, "too_many_frames", upload(gifWithFrames(10_000)));
  }

  @Test
  void zipBombIsStoppedWhileInflating() throws Exception {
    ByteArrayOutputStream zip = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(zip)) {
      z.putNextEntry(new ZipEntry("bomb.png"));
      byte[] zeros = new byte[1 << 20];
      for (int i = 0; i < 50; i++) {
        z.write(zeros); // 50 MB of zeros: about 50 KB compressed
      }
      z.closeEntry();
    }
    HttpResponse<byte[]> r = server.postMultipart("/api/v1/jobs", "image", "bomb.zip", "application/zip", zip.toByteArray());
    expect(413, "zip_too_large", r);
  }

  @Test
  void webSocketMessageOverTheLimitClosesOnlyThatSocket() throws Exception {
    CompletableFuture<Integer> closed = new CompletableFuture<>();
    WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder()
        .buildAsync(URI.create("ws://127.0.0.1:" + server.port() + "/api/v1/ws"), new WebSocket.Listener() {
          @Override
          public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
          }
        }).get(10, TimeUnit.SECONDS);
    for (int i = 0; i < 200; i++) {
      ws.sendText("{\"type\":\"ping\",\"ref\":" + i + "}", true).join(); // a flood of small messages is fine
    }
    ws.sendText("x".repeat(50_000), true);
    int code = closed.get(10, TimeUnit.SECONDS);
    // Vert.x drops the connection on an oversized frame: 1009 (too big) or 1006 (closed, no frame)
    org.junit.jupiter.api.Assertions.assertTrue(code == 1009 || code == 1006, "closed with " + code);
    HttpResponse<byte[]> ok = server.postRaw("/api/v1/matte", "image/png", MatteApiTest.encode(MatteApiTest.bands(), "png"));
    assertEquals(200, ok.statusCode());
  }
}
