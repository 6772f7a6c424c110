package io.unimatte.imaging;

import static io.unimatte.imaging.TestImages.BLACK;
import static io.unimatte.imaging.TestImages.BLUE;
import static io.unimatte.imaging.TestImages.GREEN;
import static io.unimatte.imaging.TestImages.RED;
import static io.unimatte.imaging.TestImages.WHITE;
import static io.unimatte.imaging.TestImages.channelDiff;
import static io.unimatte.imaging.TestImages.pixel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The decoder on every format it reads and every way an input can be bad. Longer than most files on
 * purpose: one test per format and per failure code, sharing the small encoders at the bottom.
 */
class ImageDecoderTest {

  /** JPEG is lossy: flat colour areas away from block edges come back within this per channel. */
  private static final int JPEG_TOLERANCE = 12;

  private final ImageDecoder decoder = new ImageDecoder();

  /** Four flat quadrants: red, green / blue, white. */
  private static int quadrant(int x, int y, int w, int h) {
    boolean right = x >= w / 2;
    boolean bottom = y >= h / 2;
    return bottom ? (right ? WHITE : BLUE) : (right ? GREEN : RED);
  }

  private static BufferedImage quadrants(int w, int h, int type) {
    return TestImages.image(w, h, type, (x, y) -> quadrant(x, y, w, h));
  }

  private static void assertQuadrants(DecodedImage img, int tolerance) {
    int w = img.width();
    int h = img.height();
    int[][] probes = {{w / 4, h / 4}, {3 * w / 4, h / 4}, {w / 4, 3 * h / 4}, {3 * w / 4, 3 * h / 4}};
    for (int[] p : probes) {
      int expected = quadrant(p[0], p[1], w, h);
      int actual = pixel(img, p[0], p[1]);
      assertTrue(channelDiff(expected, actual) <= tolerance,
          String.format("at %d,%d expected %08x got %08x", p[0], p[1], expected, actual));
    }
  }

  private static void assertExact(BufferedImage expected, DecodedImage img) {
    assertEquals(expected.getWidth(), img.width());
    assertEquals(expected.getHeight(), img.height());
    int[] want = expected.getRGB(0, 0, img.width(), img.height(), null, 0, img.width());
    assertArrayEquals(want, img.argb());
  }

  private static int[] randomArgb(int n, long seed, boolean alpha) {
    Random rnd = new Random(seed);
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = alpha ? rnd.nextInt() : rnd.nextInt() | 0xFF000000;
    }
    return p;
  }

  @Test
  void decodesJpeg() throws Exception {
    DecodedImage img = decoder.decode(TestImages.write(quadrants(64, 48, BufferedImage.TYPE_3BYTE_BGR), "jpeg"));
    assertEquals(64, img.width());
    assertEquals(48, img.height());
    assertEquals("jpeg", img.format());
    assertFalse(img.hasAlpha());
    assertEquals(1, img.orientation());
    assertQuadrants(img, JPEG_TOLERANCE);
  }

  @Test
  void decodesGreyJpeg() throws Exception {
    BufferedImage grey = TestImages.image(32, 32, BufferedImage.TYPE_BYTE_GRAY, (x, y) -> x < 16 ? BLACK : WHITE);
    DecodedImage img = decoder.decode(TestImages.write(grey, "jpeg"));
    assertTrue(channelDiff(BLACK, pixel(img, 4, 4)) <= JPEG_TOLERANCE);
    assertTrue(channelDiff(WHITE, pixel(img, 28, 28)) <= JPEG_TOLERANCE);
  }

  @Test
  void decodesRgbaPngExactly() throws Exception {
    int w = 37;
    int h = 23;
    BufferedImage src = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
    src.setRGB(0, 0, w, h, randomArgb(w * h, 1, true), 0, w);
    DecodedImage img = decoder.decode(TestImages.write(src, "png"));
    assertEquals("png", img.format());
    assertTrue(img.hasAlpha());
    assertExact(src, img);
  }

  @Test
  void decodesRgbPngExactly() throws Exception {
    BufferedImage src = new BufferedImage(20, 10, BufferedImage.TYPE_3BYTE_BGR);
    src.setRGB(0, 0, 20, 10, randomArgb(200, 2, false), 0, 20);
    DecodedImage img = decoder.decode(TestImages.write(src, "png"));
    assertFalse(img.hasAlpha());
    assertExact(src, img);
  }

  @Test
  void greyPngIsReplicatedWithoutGammaShift() throws Exception {
    BufferedImage src = new BufferedImage(256, 1, BufferedImage.TYPE_BYTE_GRAY);
    byte[] ramp = new byte[256];
    for (int i = 0; i < 256; i++) {
      ramp[i] = (byte) i;
    }
    src.getRaster().setDataElements(0, 0, 256, 1, ramp);
    DecodedImage img = decoder.decode(TestImages.write(src, "png"));
    for (int v = 0; v < 256; v++) {
      assertEquals(0xFF000000 | v << 16 | v << 8 | v, img.argb()[v], "grey " + v);
    }
  }

  @Test
  void decodesPalettePngWithTransparency() throws Exception {
    IndexColorModel icm = new IndexColorModel(8, 3, new byte[] {(byte) 255, 0, 0}, new byte[] {0, (byte) 255, 0},
        new byte[] {0, 0, (byte) 255}, new byte[] {(byte) 255, (byte) 128, 0});
    BufferedImage src = new BufferedImage(6, 3, BufferedImage.TYPE_BYTE_INDEXED, icm);
    for (int y = 0; y < 3; y++) {
      for (int x = 0; x < 6; x++) {
        src.getRaster().setSample(x, y, 0, y);
      }
    }
    DecodedImage img = decoder.decode(TestImages.write(src, "png"));
    assertTrue(img.hasAlpha());
    assertEquals(0xFFFF0000, pixel(img, 5, 0));
    assertEquals(0x8000FF00, pixel(img, 5, 1));
    assertEquals(0x000000FF, pixel(img, 5, 2));
  }

  @Test
  void decodesSixteenBitRgbaPng() throws Exception {
    int w = 5;
    int h = 4;
    ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB), true, false,
        Transparency.TRANSLUCENT, DataBuffer.TYPE_USHORT);
    WritableRaster raster = cm.createCompatibleWritableRaster(w, h);
    int[] expected = new int[w * h];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int r = x * 60;
        int g = y * 80;
        int b = 255 - x * 50;
        int a = 255 - y * 60;
        // 16-bit value v*257 is exactly the 8-bit value v; +100 must still round to v
        raster.setPixel(x, y, new int[] {r * 257 + 100, g * 257, b * 257, a * 257});
        expected[y * w + x] = a << 24 | r << 16 | g << 8 | b;
      }
    }
    BufferedImage src = new BufferedImage(cm, raster, false, null);
    byte[] png = TestImages.write(src, "png");
    assertEquals(16, png[24], "bit depth in IHDR");
    DecodedImage img = decoder.decode(png);
    assertTrue(img.hasAlpha());
    assertArrayEquals(expected, img.argb());
  }

  @Test
  void decodesSixteenBitGreyPng() throws Exception {
    BufferedImage src = new BufferedImage(3, 1, BufferedImage.TYPE_USHORT_GRAY);
    src.getRaster().setPixels(0, 0, 3, 1, new int[] {0, 128 * 257, 65535});
    byte[] png = TestImages.write(src, "png");
    assertEquals(16, png[24]);
    DecodedImage img = decoder.decode(png);
    assertArrayEquals(new int[] {0xFF000000, 0xFF808080, 0xFFFFFFFF}, img.argb());
  }

  @Test
  void decodesBmpExactly() throws Exception {
    BufferedImage src = new BufferedImage(13, 7, BufferedImage.TYPE_3BYTE_BGR);
    src.setRGB(0, 0, 13, 7, randomArgb(91, 3, false), 0, 13);
    DecodedImage img = decoder.decode(TestImages.write(src, "bmp"));
    assertEquals("bmp", img.format());
    assertExact(src, img);
  }

  @Test
  void decodesTiffExactly() throws Exception {
    BufferedImage src = new BufferedImage(17, 9, BufferedImage.TYPE_INT_RGB);
    src.setRGB(0, 0, 17, 9, randomArgb(153, 4, false), 0, 17);
    DecodedImage img = decoder.decode(TestImages.write(src, "tiff"));
    assertEquals("tiff", img.format());
    assertExact(src, img);
  }

  @Test
  void decodesGifFirstFrameOnly() throws Exception {
    byte[] gif = twoFrameGif();
    DecodedImage img = decoder.decode(gif);
    assertEquals("gif", img.format());
    assertEquals(8, img.width());
    assertEquals(6, img.height());
    for (int p : img.argb()) {
      assertEquals(RED, p);
    }
  }

  @Test
  void rejectsGifWithTooManyFrames() {
    ImageDecoder strict = new ImageDecoder(new ImageLimits(1 << 20, 1 << 20, 1));
    ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> strict.decode(twoFrameGif()));
    assertEquals(ImageDecodeException.TOO_MANY_FRAMES, e.code());
  }

  private static byte[] twoFrameGif() throws Exception {
    ImageWriter writer = ImageIO.getImageWritersByFormatName("gif").next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      writer.prepareWriteSequence(null);
      writer.writeToSequence(new IIOImage(TestImages.image(8, 6, BufferedImage.TYPE_INT_RGB, (x, y) -> RED), null, null), null);
      writer.writeToSequence(new IIOImage(TestImages.image(8, 6, BufferedImage.TYPE_INT_RGB, (x, y) -> BLUE), null, null), null);
      writer.endWriteSequence();
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }

  @Test
  void decodesLosslessWebp() throws Exception {
    DecodedImage img = decoder.decode(TestImages.resource("sample.webp"));
    assertEquals("webp", img.format());
    assertEquals(40, img.width());
    assertEquals(30, img.height());
    assertTrue(img.hasAlpha());
    // made with cwebp -lossless -exact from quadrants red, green / blue, yellow at alpha 0x80
    assertEquals(RED, pixel(img, 0, 0));
    assertEquals(RED, pixel(img, 19, 14));
    assertEquals(GREEN, pixel(img, 20, 0));
    assertEquals(BLUE, pixel(img, 0, 15));
    assertEquals(0x80FFFF00, pixel(img, 39, 29));
  }

  @Test
  void decodesCmykJpegThroughTwelveMonkeys() throws Exception {
    // 32x24, made with ImageMagick -colorspace CMYK: red top-left 16x12, blue bottom-right, white elsewhere
    DecodedImage img = decoder.decode(TestImages.resource("cmyk.jpg"));
    assertEquals(32, img.width());
    assertEquals(24, img.height());
    assertTrue(channelDiff(RED, pixel(img, 4, 4)) <= 30, Integer.toHexString(pixel(img, 4, 4)));
    assertTrue(channelDiff(BLUE, pixel(img, 28, 20)) <= 30, Integer.toHexString(pixel(img, 28, 20)));
    assertTrue(channelDiff(WHITE, pixel(img, 28, 4)) <= 30, Integer.toHexString(pixel(img, 28, 4)));
  }

  @Test
  void decodesCmykTiff() throws Exception {
    // 16x12 8-bit CMYK: red top-left 8x6, blue bottom-right, white elsewhere
    DecodedImage img = decoder.decode(TestImages.resource("cmyk.tif"));
    assertEquals(16, img.width());
    assertTrue(channelDiff(RED, pixel(img, 2, 2)) <= 30, Integer.toHexString(pixel(img, 2, 2)));
    assertTrue(channelDiff(BLUE, pixel(img, 12, 10)) <= 30, Integer.toHexString(pixel(img, 12, 10)));
    assertTrue(channelDiff(WHITE, pixel(img, 12, 2)) <= 30, Integer.toHexString(pixel(img, 12, 2)));
  }

  @Test
  void decodesOnePixel() throws Exception {
    BufferedImage src = TestImages.image(1, 1, BufferedImage.TYPE_INT_ARGB, (x, y) -> 0x80123456);
    DecodedImage img = decoder.decode(TestImages.write(src, "png"));
    assertEquals(1, img.width());
    assertEquals(1, img.height());
    assertArrayEquals(new int[] {0x80123456}, img.argb());
    DecodedImage jpeg = decoder.decode(TestImages.write(TestImages.image(1, 1, BufferedImage.TYPE_3BYTE_BGR,
        (x, y) -> GREEN), "jpeg"));
    assertEquals(1, jpeg.argb().length);
  }

  // ---- EXIF orientation ----

  /** 48x32, white with a 16x16 red block in the top-left corner (MCU-aligned, so JPEG keeps it clean). */
  private static byte[] cornerJpeg() {
    return TestImages.write(TestImages.image(48, 32, BufferedImage.TYPE_3BYTE_BGR,
        (x, y) -> x < 16 && y < 16 ? RED : WHITE), "jpeg");
  }

  private static void assertRed(DecodedImage img, int x, int y) {
    assertTrue(channelDiff(RED, pixel(img, x, y)) <= JPEG_TOLERANCE,
        String.format("(%d,%d) should be red: %08x", x, y, pixel(img, x, y)));
  }

  private static void assertWhite(DecodedImage img, int x, int y) {
    assertTrue(channelDiff(WHITE, pixel(img, x, y)) <= JPEG_TOLERANCE,
        String.format("(%d,%d) should be white: %08x", x, y, pixel(img, x, y)));
  }

  @Test
  void jpegOrientation6RotatesClockwise() throws Exception {
    DecodedImage img = decoder.decode(TestImages.insertJpegSegment(cornerJpeg(), TestImages.exifApp1(6, false)));
    assertEquals(6, img.orientation());
    assertEquals(32, img.width());
    assertEquals(48, img.height());
    assertRed(img, 31, 0); // top-left corner moves to top-right
    assertWhite(img, 0, 0);
    assertWhite(img, 0, 47);
    assertWhite(img, 31, 47);
  }

  @Test
  void jpegOrientation3Rotates180() throws Exception {
    DecodedImage img = decoder.decode(TestImages.insertJpegSegment(cornerJpeg(), TestImages.exifApp1(3, true)));
    assertEquals(3, img.orientation());
    assertEquals(48, img.width());
    assertEquals(32, img.height());
    assertRed(img, 47, 31);
    assertWhite(img, 0, 0);
  }

  @Test
  void jpegOrientation8RotatesCounterClockwise() throws Exception {
    DecodedImage img = decoder.decode(TestImages.insertJpegSegment(cornerJpeg(), TestImages.exifApp1(8, false)));
    assertEquals(8, img.orientation());
    assertEquals(32, img.width());
    assertEquals(48, img.height());
    assertRed(img, 0, 47); // top-left corner moves to bottom-left
    assertWhite(img, 31, 0);
    assertWhite(img, 0, 0);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8})
  void pngExifOrientationMapsEveryPixel(int orientation) throws Exception {
    int w = 7;
    int h = 4;
    int[] src = randomArgb(w * h, orientation, true);
    BufferedImage bi = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
    bi.setRGB(0, 0, w, h, src, 0, w);
    byte[] png = TestImages.insertPngChunk(TestImages.write(bi, "png"),
        TestImages.pngChunk("eXIf", TestImages.exifTiff(orientation, orientation % 2 == 0)));
    DecodedImage img = decoder.decode(png);
    assertEquals(orientation, img.orientation());
    boolean swap = orientation >= 5;
    assertEquals(swap ? h : w, img.width());
    assertEquals(swap ? w : h, img.height());
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int[] d = upright(orientation, x, y, w, h);
        assertEquals(src[y * w + x], pixel(img, d[0], d[1]), "source " + x + "," + y);
      }
    }
  }

  /** Where source pixel (x, y) belongs once displayed upright, straight from the EXIF definitions. */
  private static int[] upright(int o, int x, int y, int w, int h) {
    return switch (o) {
      case 2 -> new int[] {w - 1 - x, y};
      case 3 -> new int[] {w - 1 - x, h - 1 - y};
      case 4 -> new int[] {x, h - 1 - y};
      case 5 -> new int[] {y, x};
      case 6 -> new int[] {h - 1 - y, x};
      case 7 -> new int[] {h - 1 - y, w - 1 - x};
      case 8 -> new int[] {y, w - 1 - x};
      default -> new int[] {x, y};
    };
  }

  @Test
  void webpExifOrientationIsApplied() throws Exception {
    byte[] webp = TestImages.webpWithExif(TestImages.resource("sample.webp"), 40, 30, TestImages.exifTiff(6, true));
    DecodedImage img = decoder.decode(webp);
    assertEquals(6, img.orientation());
    assertEquals(30, img.width());
    assertEquals(40, img.height());
    assertEquals(RED, pixel(img, 29, 0)); // red top-left quadrant now top-right
    assertEquals(BLUE, pixel(img, 0, 0)); // blue bottom-left quadrant now top-left
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void tiffOrientationIsApplied(boolean littleEndian) throws Exception {
    int w = 3;
    int h = 2;
    byte[] grey = {10, 20, 30, 40, 50, 60};
    DecodedImage img = decoder.decode(TestImages.greyTiff(w, h, grey, 8, littleEndian));
    assertEquals(8, img.orientation());
    assertEquals(2, img.width());
    assertEquals(3, img.height());
    // rotated counter-clockwise: the right column (30, 60) becomes the top row
    int[] expected = {30, 60, 20, 50, 10, 40};
    for (int i = 0; i < expected.length; i++) {
      int v = expected[i];
      assertEquals(0xFF000000 | v << 16 | v << 8 | v, img.argb()[i], "pixel " + i);
    }
  }

  // ---- errors and limits ----

  private void assertCode(String code, byte[] data) {
    ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> decoder.decode(data));
    assertEquals(code, e.code(), e.getMessage());
    assertFalse(e.getMessage().isBlank());
  }

  @Test
  void truncatedJpegIsCorrupt() {
    BufferedImage noisy = new BufferedImage(128, 96, BufferedImage.TYPE_3BYTE_BGR);
    noisy.setRGB(0, 0, 128, 96, randomArgb(128 * 96, 5, false), 0, 128);
    byte[] jpeg = TestImages.write(noisy, "jpeg");
    assertCode(ImageDecodeException.CORRUPT_IMAGE, Arrays.copyOf(jpeg, jpeg.length / 2));
    assertCode(ImageDecodeException.CORRUPT_IMAGE, Arrays.copyOf(jpeg, 300)); // inside the headers
  }

  @Test
  void jpegWithoutEoiMarkerStillDecodes() throws Exception {
    byte[] jpeg = cornerJpeg();
    DecodedImage img = decoder.decode(Arrays.copyOf(jpeg, jpeg.length - 2));
    assertRed(img, 2, 2);
  }

  @Test
  void truncatedPngIsCorrupt() {
    BufferedImage noisy = new BufferedImage(64, 64, BufferedImage.TYPE_INT_ARGB);
    noisy.setRGB(0, 0, 64, 64, randomArgb(64 * 64, 6, true), 0, 64);
    byte[] png = TestImages.write(noisy, "png");
    assertCode(ImageDecodeException.CORRUPT_IMAGE, Arrays.copyOf(png, png.length / 2));
    assertCode(ImageDecodeException.CORRUPT_IMAGE, Arrays.copyOf(png, 20));
  }

  @Test
  void garbageAfterMagicIsCorrupt() {
    byte[] junk = new byte[500];
    new Random(7).nextBytes(junk);
    junk[0] = (byte) 0xFF;
    junk[1] = (byte) 0xD8;
    junk[2] = (byte) 0xFF;
    assertCode(ImageDecodeException.CORRUPT_IMAGE, junk);
  }

  @Test
  void textIsUnsupported() {
    assertCode(ImageDecodeException.UNSUPPORTED_FORMAT, "hello, this is not an image".getBytes(StandardCharsets.UTF_8));
    assertCode(ImageDecodeException.UNSUPPORTED_FORMAT, "BM is a text that starts like a bitmap".getBytes(StandardCharsets.UTF_8));
    assertCode(ImageDecodeException.UNSUPPORTED_FORMAT, new byte[] {1});
  }

  @Test
  void emptyInput() {
    assertCode(ImageDecodeException.EMPTY_INPUT, new byte[0]);
    assertCode(ImageDecodeException.EMPTY_INPUT, null);
  }

  @Test
  void decompressionBombIsRejectedFromTheHeader() {
    // 10^10 pixels claimed; decoding would need 40 GB
    assertCode(ImageDecodeException.IMAGE_TOO_LARGE, TestImages.pngHeaderOnly(100_000, 100_000));
  }

  @Test
  void pixelLimitAppliesToOtherFormatsToo() {
    ImageDecoder small = new ImageDecoder(new ImageLimits(1 << 20, 100, 10));
    byte[] jpeg = cornerJpeg(); // 48x32 = 1536 pixels
    ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> small.decode(jpeg));
    assertEquals(ImageDecodeException.IMAGE_TOO_LARGE, e.code());
  }

  @Test
  void byteLimit() {
    ImageDecoder small = new ImageDecoder(new ImageLimits(100, 1 << 20, 10));
    ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> small.decode(cornerJpeg()));
    assertEquals(ImageDecodeException.IMAGE_TOO_LARGE, e.code());
  }

  @Test
  void zeroSizeIsInvalid() {
    assertCode(ImageDecodeException.INVALID_DIMENSIONS, TestImages.pngHeaderOnly(0, 0));
    assertCode(ImageDecodeException.INVALID_DIMENSIONS, TestImages.pngHeaderOnly(10, 0));
  }

  @Test
  void sniffsFormats() {
    assertEquals("jpeg", ImageDecoder.sniffFormat(cornerJpeg()));
    assertEquals("png", ImageDecoder.sniffFormat(TestImages.pngHeaderOnly(1, 1)));
    assertEquals("webp", ImageDecoder.sniffFormat(TestImages.resource("sample.webp")));
    assertEquals("tiff", ImageDecoder.sniffFormat(TestImages.resource("cmyk.tif")));
    assertEquals("tiff", ImageDecoder.sniffFormat(TestImages.greyTiff(1, 1, new byte[1], 1, false)));
    assertEquals("gif", ImageDecoder.sniffFormat("GIF89a......".getBytes(StandardCharsets.US_ASCII)));
    assertNull(ImageDecoder.sniffFormat("<svg></svg>".getBytes(StandardCharsets.US_ASCII)));
    assertNull(ImageDecoder.sniffFormat(new byte[0]));
  }

  @Test
  void decodedPixelsAreReadFromRasterNotTheColourModelsGreyGamma() throws Exception {
    // Java2D's grey colour space is linear; a naive getRGB would turn grey 128 into about 186.
    BufferedImage grey = new BufferedImage(1, 1, BufferedImage.TYPE_BYTE_GRAY);
    grey.getRaster().setSample(0, 0, 0, 128);
    Raster check = grey.getRaster();
    assertEquals(128, check.getSample(0, 0, 0));
    DecodedImage img = decoder.decode(TestImages.write(grey, "png"));
    assertEquals(0xFF808080, img.argb()[0]);
  }
}
