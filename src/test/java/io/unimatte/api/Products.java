package io.unimatte.api;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Iterator;
import java.util.UUID;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Test photos for the layout options (with the tiny model, white is subject and black is background),
 * the alpha's bounding box of an answer, and multipart bodies of several parts.
 */
final class Products {
  /** The product photo: {@value #W}×{@value #H}, black, a white box at [60, 160) × [90, 210). */
  static final int W = 400;
  static final int H = 300;
  static final int BOX_X = 60;
  static final int BOX_Y = 90;
  static final int BOX_W = 100;
  static final int BOX_H = 120;
  /** The alpha above which a pixel counts as subject (OutputRenderer.CROP_THRESHOLD). */
  static final int THRESHOLD = 8;

  private Products() {
  }

  static BufferedImage product() {
    BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(BOX_X, BOX_Y, BOX_W, BOX_H);
    g.dispose();
    return img;
  }

  /** The product plus a second white square at [280, 340) × [30, 90), right of the middle. */
  static BufferedImage twoProducts() {
    BufferedImage img = product();
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(280, 30, 60, 60);
    g.dispose();
    return img;
  }

  /** A background photo whose every pixel says where it is: r = x mod 256, g = y mod 256, b = 40·(x / 256). */
  static BufferedImage pattern(int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, ((x & 0xFF) << 16) | ((y & 0xFF) << 8) | (40 * (x / 256)));
      }
    }
    return img;
  }

  static byte[] png(BufferedImage img) throws IOException {
    return MatteApiTest.encode(img, "png");
  }

  /** [left, top, width, height] of alpha above {@link #THRESHOLD}; zeros when none. */
  static int[] alphaBox(BufferedImage img) {
    int x0 = img.getWidth();
    int y0 = img.getHeight();
    int x1 = -1;
    int y1 = -1;
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        if ((img.getRGB(x, y) >>> 24) > THRESHOLD) {
          x0 = Math.min(x0, x);
          x1 = Math.max(x1, x);
          y0 = Math.min(y0, y);
          y1 = Math.max(y1, y);
        }
      }
    }
    return x1 < 0 ? new int[4] : new int[] {x0, y0, x1 - x0 + 1, y1 - y0 + 1};
  }

  /** Decodes WebP with TwelveMonkeys' pure-Java reader (never the encoder library's native one). */
  static BufferedImage readWebp(byte[] webp) throws IOException {
    Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName("webp");
    while (readers.hasNext()) {
      ImageReader r = readers.next();
      if (r.getClass().getName().startsWith("com.twelvemonkeys.")) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(webp))) {
          r.setInput(in);
          return r.read(0);
        } finally {
          r.dispose();
        }
      }
    }
    throw new AssertionError("TwelveMonkeys' WebP reader is not on the class path");
  }

  /** A multipart body: name/filename/bytes triples (filename null: a text field); returns [contentType, body]. */
  static Object[] multipart(Object... parts) {
    String boundary = "b" + UUID.randomUUID();
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (int i = 0; i < parts.length; i += 3) {
      String name = (String) parts[i];
      String filename = (String) parts[i + 1];
      byte[] data = parts[i + 2] instanceof byte[] b ? b : String.valueOf(parts[i + 2]).getBytes();
      body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\""
          + (filename == null ? "" : "; filename=\"" + filename + "\"\r\nContent-Type: image/png") + "\r\n\r\n")
          .getBytes());
      body.writeBytes(data);
      body.writeBytes("\r\n".getBytes());
    }
    body.writeBytes(("--" + boundary + "--\r\n").getBytes());
    return new Object[] {"multipart/form-data; boundary=" + boundary, body.toByteArray()};
  }

  static BufferedImage decode(byte[] bytes) throws IOException {
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes));
    assertNotNull(img, "not a decodable image");
    return img;
  }
}
