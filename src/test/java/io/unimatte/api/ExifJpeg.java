package io.unimatte.api;

import java.io.ByteArrayOutputStream;

/** Inserts a minimal EXIF APP1 segment with an Orientation tag into a JPEG (test data). */
final class ExifJpeg {
  private ExifJpeg() {
  }

  static byte[] withOrientation(byte[] jpeg, int orientation) {
    // TIFF header (big-endian) + IFD0 with one entry: Orientation (0x0112), SHORT, count 1
    byte[] tiff = {
        'M', 'M', 0, 42, 0, 0, 0, 8,
        0, 1,
        0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, (byte) orientation, 0, 0,
        0, 0, 0, 0};
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(jpeg, 0, 2); // SOI
    int len = 2 + 6 + tiff.length;
    out.write(0xFF);
    out.write(0xE1);
    out.write(len >> 8);
    out.write(len & 0xFF);
    out.writeBytes(new byte[] {'E', 'x', 'i', 'f', 0, 0});
    out.writeBytes(tiff);
    out.write(jpeg, 2, jpeg.length - 2);
    return out.toByteArray();
  }
}
