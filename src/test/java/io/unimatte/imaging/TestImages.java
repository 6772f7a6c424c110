package io.unimatte.imaging;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;

/** Builders for test inputs: ImageIO-written files and hand-made containers with EXIF data. */
final class TestImages {

  static final int RED = 0xFFFF0000;
  static final int GREEN = 0xFF00FF00;
  static final int BLUE = 0xFF0000FF;
  static final int WHITE = 0xFFFFFFFF;
  static final int BLACK = 0xFF000000;

  private TestImages() {
  }

  /** An image of {@code type} filled by {@code f(x, y) -> argb}. */
  static BufferedImage image(int w, int h, int type, PixelFunction f) {
    BufferedImage img = new BufferedImage(w, h, type);
    int[] row = new int[w];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        row[x] = f.at(x, y);
      }
      img.setRGB(0, y, w, 1, row, 0, w);
    }
    return img;
  }

  interface PixelFunction {
    int at(int x, int y);
  }

  static byte[] write(BufferedImage img, String format) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(img, format, out)) {
        throw new IllegalStateException("no " + format + " writer for type " + img.getType());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  static byte[] resource(String name) {
    try (InputStream in = TestImages.class.getResourceAsStream("/imaging/" + name)) {
      return Objects.requireNonNull(in, name).readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A minimal TIFF structure (header + IFD0 with a single Orientation SHORT), as found in EXIF blocks. */
  static byte[] exifTiff(int orientation, boolean littleEndian) {
    ByteBuffer b = ByteBuffer.allocate(8 + 2 + 12 + 4).order(littleEndian ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
    b.put((byte) (littleEndian ? 'I' : 'M')).put((byte) (littleEndian ? 'I' : 'M')).putShort((short) 42).putInt(8);
    b.putShort((short) 1);
    b.putShort((short) 0x0112).putShort((short) 3).putInt(1).putShort((short) orientation).putShort((short) 0);
    b.putInt(0); // no next IFD
    return b.array();
  }

  /** A JPEG APP1 segment "Exif\0\0" + TIFF carrying the orientation. */
  static byte[] exifApp1(int orientation, boolean littleEndian) {
    byte[] tiff = exifTiff(orientation, littleEndian);
    byte[] seg = new byte[4 + 6 + tiff.length];
    seg[0] = (byte) 0xFF;
    seg[1] = (byte) 0xE1;
    int len = seg.length - 2;
    seg[2] = (byte) (len >> 8);
    seg[3] = (byte) len;
    System.arraycopy("Exif\0\0".getBytes(StandardCharsets.ISO_8859_1), 0, seg, 4, 6);
    System.arraycopy(tiff, 0, seg, 10, tiff.length);
    return seg;
  }

  /** Inserts a marker segment after SOI and after a leading JFIF APP0, where cameras put Exif. */
  static byte[] insertJpegSegment(byte[] jpeg, byte[] segment) {
    int at = 2;
    if ((jpeg[2] & 0xFF) == 0xFF && (jpeg[3] & 0xFF) == 0xE0) {
      at = 4 + ((jpeg[4] & 0xFF) << 8 | (jpeg[5] & 0xFF));
    }
    return splice(jpeg, at, segment);
  }

  /** A PNG chunk with a correct CRC. */
  static byte[] pngChunk(String type, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(12 + data.length);
    byte[] t = type.getBytes(StandardCharsets.US_ASCII);
    b.putInt(data.length).put(t).put(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    b.putInt((int) crc.getValue());
    return b.array();
  }

  /** Inserts a chunk right after IHDR (signature 8 bytes + IHDR 25 bytes). */
  static byte[] insertPngChunk(byte[] png, byte[] chunk) {
    return splice(png, 8 + 25, chunk);
  }

  /** Just the PNG signature, an IHDR claiming {@code w}×{@code h} RGBA, and IEND: no pixel data at all. */
  static byte[] pngHeaderOnly(int w, int h) {
    ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) 8).put((byte) 6).put((byte) 0)
        .put((byte) 0).put((byte) 0);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
    out.writeBytes(pngChunk("IHDR", ihdr.array()));
    out.writeBytes(pngChunk("IEND", new byte[0]));
    return out.toByteArray();
  }

  /**
   * Wraps a simple (VP8L/VP8) WebP into the extended format: VP8X header with the EXIF flag, the
   * original bitstream chunk, then an EXIF chunk.
   */
  static byte[] webpWithExif(byte[] simpleWebp, int w, int h, byte[] exif) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes("WEBP".getBytes(StandardCharsets.US_ASCII));
    ByteBuffer vp8x = ByteBuffer.allocate(18).order(ByteOrder.LITTLE_ENDIAN);
    vp8x.put("VP8X".getBytes(StandardCharsets.US_ASCII)).putInt(10);
    vp8x.put((byte) 0x08).put((byte) 0).put((byte) 0).put((byte) 0); // flags: EXIF present
    put24(vp8x, w - 1);
    put24(vp8x, h - 1);
    body.writeBytes(vp8x.array());
    body.write(simpleWebp, 12, simpleWebp.length - 12); // chunks after "RIFF" size "WEBP"
    ByteBuffer exifHeader = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    exifHeader.put("EXIF".getBytes(StandardCharsets.US_ASCII)).putInt(exif.length);
    body.writeBytes(exifHeader.array());
    body.writeBytes(exif);
    if ((exif.length & 1) != 0) {
      body.write(0);
    }
    byte[] payload = body.toByteArray();
    ByteBuffer riff = ByteBuffer.allocate(8 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
    riff.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(payload.length).put(payload);
    return riff.array();
  }

  private static void put24(ByteBuffer b, int v) {
    b.put((byte) v).put((byte) (v >> 8)).put((byte) (v >> 16));
  }

  /**
   * An uncompressed 8-bit grey TIFF written by hand (one strip), with an Orientation tag, in either
   * byte order: ImageIO's TIFF writers do not make it easy to set the tag.
   */
  static byte[] greyTiff(int w, int h, byte[] pixels, int orientation, boolean littleEndian) {
    int[][] entries = {
      {256, 4, w}, {257, 4, h}, {258, 3, 8}, {259, 3, 1}, {262, 3, 1},
      {273, 4, 0 /* patched below */}, {274, 3, orientation}, {277, 3, 1}, {278, 4, h}, {279, 4, w * h},
    };
    int ifdSize = 2 + entries.length * 12 + 4;
    int dataOffset = 8 + ifdSize;
    ByteBuffer b = ByteBuffer.allocate(dataOffset + pixels.length)
        .order(littleEndian ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
    b.put((byte) (littleEndian ? 'I' : 'M')).put((byte) (littleEndian ? 'I' : 'M')).putShort((short) 42).putInt(8);
    b.putShort((short) entries.length);
    for (int[] e : entries) {
      int value = e[0] == 273 ? dataOffset : e[2];
      b.putShort((short) e[0]).putShort((short) e[1]).putInt(1);
      if (e[1] == 3) {
        b.putShort((short) value).putShort((short) 0); // SHORT values sit left-justified
      } else {
        b.putInt(value);
      }
    }
    b.putInt(0);
    b.put(pixels);
    return b.array();
  }

  static byte[] splice(byte[] data, int at, byte[] insert) {
    byte[] out = new byte[data.length + insert.length];
    System.arraycopy(data, 0, out, 0, at);
    System.arraycopy(insert, 0, out, at, insert.length);
    System.arraycopy(data, at, out, at + insert.length, data.length - at);
    return out;
  }

  /** The pixel at (x, y) of the upright image. */
  static int pixel(DecodedImage img, int x, int y) {
    return img.argb()[y * img.width() + x];
  }

  /** Max per-channel difference between two ARGB pixels. */
  static int channelDiff(int a, int b) {
    int max = 0;
    for (int s = 0; s < 32; s += 8) {
      max = Math.max(max, Math.abs(((a >>> s) & 0xFF) - ((b >>> s) & 0xFF)));
    }
    return max;
  }
}
