package io.unimatte.imaging;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ExifOrientationTest {

  @Test
  void readsBothByteOrders() {
    for (int o = 1; o <= 8; o++) {
      byte[] le = TestImages.exifTiff(o, true);
      byte[] be = TestImages.exifTiff(o, false);
      assertEquals(o, ExifOrientation.fromTiff(le, 0, le.length));
      assertEquals(o, ExifOrientation.fromTiff(be, 0, be.length));
    }
  }

  @Test
  void readsLongTypedValueAndSkipsOtherTags() {
    ByteBuffer b = ByteBuffer.allocate(8 + 2 + 24 + 4).order(ByteOrder.BIG_ENDIAN);
    b.put((byte) 'M').put((byte) 'M').putShort((short) 42).putInt(8).putShort((short) 2);
    b.putShort((short) 0x010F).putShort((short) 2).putInt(4).putInt(0x43616E00); // Make = "Can"
    b.putShort((short) 0x0112).putShort((short) 4).putInt(1).putInt(5);
    b.putInt(0);
    assertEquals(5, ExifOrientation.fromTiff(b.array(), 0, b.capacity()));
  }

  @Test
  void outOfRangeAndMalformedGiveNormal() {
    byte[] nine = TestImages.exifTiff(9, true);
    assertEquals(1, ExifOrientation.fromTiff(nine, 0, nine.length));
    byte[] ok = TestImages.exifTiff(6, false);
    assertEquals(1, ExifOrientation.fromTiff(ok, 0, 12), "IFD cut off");
    byte[] badMagic = ok.clone();
    badMagic[3] = 43;
    assertEquals(1, ExifOrientation.fromTiff(badMagic, 0, badMagic.length));
    byte[] farIfd = ok.clone();
    farIfd[4] = 0x7F; // IFD offset far beyond the data
    assertEquals(1, ExifOrientation.fromTiff(farIfd, 0, farIfd.length));
    assertEquals(1, ExifOrientation.fromTiff(new byte[3], 0, 3));
  }

  @Test
  void randomBytesNeverThrow() {
    Random rnd = new Random(42);
    for (int i = 0; i < 2000; i++) {
      byte[] d = new byte[rnd.nextInt(64)];
      rnd.nextBytes(d);
      if (d.length > 4) {
        d[0] = (byte) (rnd.nextBoolean() ? 'I' : 'M');
        d[1] = d[0];
      }
      int o = ExifOrientation.fromTiff(d, 0, d.length);
      assertEquals(true, o >= 1 && o <= 8);
      byte[] jpeg = new byte[d.length + 4];
      jpeg[0] = (byte) 0xFF;
      jpeg[1] = (byte) 0xD8;
      jpeg[2] = (byte) 0xFF;
      jpeg[3] = (byte) 0xE1;
      System.arraycopy(d, 0, jpeg, 4, d.length);
      o = ExifOrientation.fromJpeg(jpeg);
      assertEquals(true, o >= 1 && o <= 8);
    }
  }

  @Test
  void jpegScanSkipsOtherSegmentsAndFillBytes() {
    byte[] app0 = {(byte) 0xFF, (byte) 0xE0, 0, 4, 1, 2};
    byte[] xmpApp1 = {(byte) 0xFF, (byte) 0xE1, 0, 8, 'h', 't', 't', 'p', ':', '/'};
    byte[] exif = TestImages.exifApp1(7, true);
    byte[] head = {(byte) 0xFF, (byte) 0xD8};
    byte[] fill = {(byte) 0xFF};
    byte[] jpeg = concat(head, app0, xmpApp1, fill, exif, new byte[] {(byte) 0xFF, (byte) 0xDA, 0, 2});
    assertEquals(7, ExifOrientation.fromJpeg(jpeg));
    byte[] exifAfterScan = concat(head, app0, new byte[] {(byte) 0xFF, (byte) 0xDA, 0, 2}, exif);
    assertEquals(1, ExifOrientation.fromJpeg(exifAfterScan), "nothing after SOS counts");
  }

  @Test
  void pngChunkWithExifPrefixIsAccepted() {
    byte[] tiff = TestImages.exifTiff(3, false);
    byte[] prefixed = concat("Exif\0\0".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), tiff);
    byte[] png = concat(new byte[8], TestImages.pngChunk("eXIf", prefixed), TestImages.pngChunk("IEND", new byte[0]));
    assertEquals(3, ExifOrientation.fromPng(png));
  }

  @Test
  void placementSendsCornersWhereExifSays() {
    int w = 4;
    int h = 3;
    // top-left source pixel (0,0) in the upright image, for each orientation (x, y)
    int[][] topLeft = {null, {0, 0}, {3, 0}, {3, 2}, {0, 2}, {0, 0}, {2, 0}, {2, 3}, {0, 3}};
    for (int o = 1; o <= 8; o++) {
      int[] p = ExifOrientation.placement(o, w, h);
      int outW = ExifOrientation.swapsAxes(o) ? h : w;
      int index = p[0];
      assertEquals(Arrays.toString(topLeft[o]), Arrays.toString(new int[] {index % outW, index / outW}), "orientation " + o);
    }
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }
}
