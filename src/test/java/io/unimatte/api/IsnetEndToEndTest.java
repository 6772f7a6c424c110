package io.unimatte.api;

import io.unimatte.testing.RealModel;
import io.unimatte.testing.TestPhotos;
import io.unimatte.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.http.HttpResponse;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The acceptance path of the first slice: the real ISNet behind the real server, and a photo
 * uploaded like {@code curl -F image=@astronaut.png localhost:8080/api/v1/matte}.
 */
@Tag("model")
class IsnetEndToEndTest {
  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    Path dir = RealModel.isnetDir();
    var session = RealModel.session();
    server = TestServer.start(dir.getParent(), dir.getFileName().toString(), () -> session, cfg -> { });
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      assertEquals(0, server.blockedThreadWarnings(), "Vert.x reported a blocked event loop");
      server.close();
    }
  }

  /** Mean alpha (0..255) over a rectangle. */
  private static double meanAlpha(BufferedImage img, int x0, int y0, int x1, int y1) {
    long sum = 0;
    for (int y = y0; y < y1; y++) {
      for (int x = x0; x < x1; x++) {
        sum += img.getRGB(x, y) >>> 24;
      }
    }
    return (double) sum / ((x1 - x0) * (y1 - y0));
  }

  @Test
  void astronautIsCutOutFromTheBackground() throws Exception {
    HttpResponse<byte[]> r = server.postMultipart("/api/v1/matte", "image", "astronaut.png", "image/png",
        TestPhotos.bytes("astronaut.png"));
    assertEquals(200, r.statusCode(), new String(r.body()));
    assertEquals("isnet", r.headers().firstValue("X-Model").orElseThrow());
    BufferedImage out = ImageIO.read(new ByteArrayInputStream(r.body()));
    assertEquals(512, out.getWidth());
    assertEquals(512, out.getHeight());
    assertTrue(out.getColorModel().hasAlpha());
    // face and suit are opaque; the studio background (top corners) is transparent
    double face = meanAlpha(out, 200, 90, 250, 140);
    double suit = meanAlpha(out, 60, 300, 200, 450);
    double topLeft = meanAlpha(out, 0, 0, 80, 80);
    double topRight = meanAlpha(out, 420, 0, 512, 80);
    System.out.printf("astronaut alpha: face %.1f suit %.1f top-left %.1f top-right %.1f%n", face, suit, topLeft, topRight);
    assertTrue(face > 240 && suit > 240, "subject opaque");
    assertTrue(topLeft < 10 && topRight < 10, "background transparent");
  }

  @Test
  void alphaOutputOfAJpegPhoto() throws Exception {
    HttpResponse<byte[]> r = server.postRaw("/api/v1/matte?output=alpha", "image/jpeg",
        TestPhotos.bytes("grace_hopper.jpg"));
    assertEquals(200, r.statusCode(), new String(r.body()));
    BufferedImage out = ImageIO.read(new ByteArrayInputStream(r.body()));
    assertEquals(BufferedImage.TYPE_BYTE_GRAY, out.getType());
    int w = out.getWidth();
    int h = out.getHeight();
    assertEquals(r.headers().firstValue("X-Width").orElseThrow(), String.valueOf(w));
    // a portrait: the centre of the lower half is the person, the top corners are background
    assertTrue(out.getRaster().getSample(w / 2, 3 * h / 4, 0) > 200);
    assertTrue(out.getRaster().getSample(5, 5, 0) < 60);
  }
}
