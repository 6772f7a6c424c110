package io.unimatte.imaging;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.Inflater;
import javax.imageio.ImageIO;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class PngEncoderTest {

  private record Chunk(String type, byte[] data) {
  }

  /** Splits a PNG into chunks, checking the signature and every CRC on the way. */
  private static List<Chunk> chunks(byte[] png) {
    byte[] sig = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    for (int i = 0; i < sig.length; i++) {
      assertEquals(sig[i], png[i], "signature byte " + i);
    }
    List<Chunk> out = new ArrayList<>();
    ByteBuffer b = ByteBuffer.wrap(png, 8, png.length - 8);
    while (b.hasRemaining()) {
      int len = b.getInt();
      byte[] type = new byte[4];
      b.get(type);
      byte[] data = new byte[len];
      b.get(data);
      CRC32 crc = new CRC32();
      crc.update(type);
      crc.update(data);
      assertEquals((int) crc.getValue(), b.getInt(), "CRC of " + new String(type, StandardCharsets.US_ASCII));
      out.add(new Chunk(new String(type, StandardCharsets.US_ASCII), data));
    }
    return out;
  }

  private static BufferedImage readWithImageIO(byte[] png) throws Exception {
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
    assertTrue(img != null, "ImageIO could not read our PNG");
    return img;
  }

  /** A photo-like RGBA image: smooth gradients, noise, and a soft alpha edge. */
  private static int[] photoLike(int w, int h, long seed) {
    Random rnd = new Random(seed);
    int[] p = new int[w * h];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int r = (x * 255 / w + rnd.nextInt(9)) & 0xFF;
        int g = (y * 255 / h) & 0xFF;
        int b = ((x + y) * 3) & 0xFF;
        int a = Math.max(0, Math.min(255, (x - w / 3) * 4));
        p[y * w + x] = a << 24 | r << 16 | g << 8 | b;
      }
    }
    return p;
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 4, 9})
  void rgbaRoundTripsExactly(int level) throws Exception {
    int w = 61;
    int h = 47;
    int[] argb = new Random(level).ints(w * h).toArray();
    byte[] png = new PngEncoder(level).encodeRgba(w, h, argb);
    List<Chunk> chunks = chunks(png);
    assertEquals("IHDR", chunks.get(0).type());
    byte[] ihdr = chunks.get(0).data();
    assertEquals(w, ByteBuffer.wrap(ihdr, 0, 4).getInt());
    assertEquals(h, ByteBuffer.wrap(ihdr, 4, 4).getInt());
    assertEquals(8, ihdr[8], "bit depth");
    assertEquals(6, ihdr[9], "colour type RGBA");
    assertEquals("IEND", chunks.get(chunks.size() - 1).type());

    BufferedImage back = readWithImageIO(png);
    assertEquals(w, back.getWidth());
    assertEquals(h, back.getHeight());
    assertTrue(back.getColorModel().hasAlpha());
    Raster r = back.getRaster();
    int[] px = new int[4];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        r.getPixel(x, y, px);
        int p = argb[y * w + x];
        assertArrayEquals(new int[] {(p >> 16) & 0xFF, (p >> 8) & 0xFF, p & 0xFF, p >>> 24}, px, x + "," + y);
      }
    }
  }

  @Test
  void greyRoundTripsExactly() throws Exception {
    int w = 200;
    int h = 33;
    byte[] grey = new byte[w * h];
    new Random(9).nextBytes(grey);
    byte[] png = new PngEncoder().encodeGray(w, h, grey);
    assertEquals(0, chunks(png).get(0).data()[9], "colour type grey");
    BufferedImage back = readWithImageIO(png);
    assertEquals(BufferedImage.TYPE_BYTE_GRAY, back.getType());
    int[] samples = back.getRaster().getSamples(0, 0, w, h, 0, (int[]) null);
    for (int i = 0; i < samples.length; i++) {
      assertEquals(grey[i] & 0xFF, samples[i], "pixel " + i);
    }
  }

  @Test
  void rgbRoundTripsAndDropsAlpha() throws Exception {
    int w = 9;
    int h = 5;
    int[] argb = new Random(3).ints(w * h).toArray();
    byte[] png = new PngEncoder(6).encodeRgb(w, h, argb);
    assertEquals(2, chunks(png).get(0).data()[9], "colour type RGB");
    BufferedImage back = readWithImageIO(png);
    int[] got = back.getRGB(0, 0, w, h, null, 0, w);
    for (int i = 0; i < got.length; i++) {
      assertEquals(argb[i] | 0xFF000000, got[i]);
    }
  }

  @Test
  void largeImageSpansSeveralIdatChunksAndUsesSeveralFilters() throws Exception {
    int w = 400;
    int h = 300;
    int[] argb = photoLike(w, h, 1);
    byte[] png = new PngEncoder().encodeRgba(w, h, argb);
    List<Chunk> chunks = chunks(png);
    ByteArrayOutputStream zlib = new ByteArrayOutputStream();
    int idats = 0;
    for (Chunk c : chunks) {
      if (c.type().equals("IDAT")) {
        idats++;
        zlib.writeBytes(c.data());
      }
    }
    assertTrue(idats > 1, "expected several IDAT chunks, got " + idats);
    Inflater inf = new Inflater();
    inf.setInput(zlib.toByteArray());
    byte[] raw = new byte[(w * 4 + 1) * h];
    assertEquals(raw.length, inf.inflate(raw));
    assertTrue(inf.finished());
    Set<Integer> filters = new HashSet<>();
    for (int y = 0; y < h; y++) {
      int f = raw[y * (w * 4 + 1)];
      assertTrue(f >= 0 && f <= 4, "filter type " + f);
      filters.add(f);
    }
    assertTrue(filters.size() >= 2, "adaptive filtering should pick different filters: " + filters);
    assertArrayEquals(argb, decodeWithOurDecoder(png));
  }

  private static int[] decodeWithOurDecoder(byte[] png) throws Exception {
    return new ImageDecoder().decode(png).argb();
  }

  /** Undoes a filter exactly as the PNG specification (and every decoder) does. */
  private static byte[] unfilter(int filter, byte[] filtered, byte[] prevRaw, int bpp) {
    byte[] out = new byte[filtered.length];
    for (int i = 0; i < out.length; i++) {
      int a = i >= bpp ? out[i - bpp] & 0xFF : 0;
      int b = prevRaw[i] & 0xFF;
      int c = i >= bpp ? prevRaw[i - bpp] & 0xFF : 0;
      int pred = switch (filter) {
        case 0 -> 0;
        case 1 -> a;
        case 2 -> b;
        case 3 -> (a + b) / 2;
        default -> {
          int p = a + b - c;
          int pa = Math.abs(p - a);
          int pb = Math.abs(p - b);
          int pc = Math.abs(p - c);
          yield pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        }
      };
      out[i] = (byte) (filtered[i] + pred);
    }
    return out;
  }

  @Test
  void everyFilterTypeInvertsPerSpecification() {
    Random rnd = new Random(11);
    for (int bpp : new int[] {1, 3, 4}) {
      for (int trial = 0; trial < 50; trial++) {
        byte[] prev = new byte[bpp * (1 + rnd.nextInt(40))];
        byte[] cur = new byte[prev.length];
        rnd.nextBytes(prev);
        rnd.nextBytes(cur);
        if (trial % 2 == 0) { // smooth rows too, where Paeth ties are frequent
          for (int i = 0; i < cur.length; i++) {
            prev[i] = (byte) (i / bpp * 3);
            cur[i] = (byte) (i / bpp * 3 + rnd.nextInt(3));
          }
        }
        for (int f = PngEncoder.FILTER_NONE; f <= PngEncoder.FILTER_PAETH; f++) {
          byte[] filtered = new byte[cur.length + 2];
          PngEncoder.applyFilter(f, cur, prev, bpp, filtered, 2);
          byte[] back = unfilter(f, Arrays.copyOfRange(filtered, 2, filtered.length), prev, bpp);
          assertArrayEquals(cur, back, "filter " + f + " bpp " + bpp);
        }
      }
    }
  }

  @Test
  void heuristicPicksTheObviousFilter() {
    byte[] zeros = new byte[4000];
    byte[] ramp = new byte[4000];
    for (int i = 0; i < ramp.length; i++) {
      ramp[i] = (byte) (i / 4);
    }
    // a horizontal ramp repeated from the row above: Up gives all zeros
    assertEquals(PngEncoder.FILTER_UP, PngEncoder.chooseFilter(ramp, ramp, 4));
    // a ramp below an empty row: Sub gives small constant steps
    assertEquals(PngEncoder.FILTER_SUB, PngEncoder.chooseFilter(ramp, zeros, 4));
    assertEquals(PngEncoder.FILTER_NONE, PngEncoder.chooseFilter(zeros, zeros, 4));
  }

  @Test
  void tinyImages() throws Exception {
    PngEncoder enc = new PngEncoder();
    assertArrayEquals(new int[] {0x12345678}, decodeWithOurDecoder(enc.encodeRgba(1, 1, new int[] {0x12345678})));
    int[] column = {0xFF000000, 0x00FFFFFF, 0x80808080};
    assertArrayEquals(column, decodeWithOurDecoder(enc.encodeRgba(1, 3, column)));
    byte[] grey = {0, (byte) 255, 7};
    assertArrayEquals(new int[] {0xFF000000, 0xFFFFFFFF, 0xFF070707}, decodeWithOurDecoder(enc.encodeGray(3, 1, grey)));
  }

  @Test
  void higherLevelIsNotLarger() {
    int[] argb = photoLike(300, 200, 2);
    int fast = new PngEncoder(1).encodeRgba(300, 200, argb).length;
    int best = new PngEncoder(9).encodeRgba(300, 200, argb).length;
    int stored = new PngEncoder(0).encodeRgba(300, 200, argb).length;
    assertTrue(best <= fast, best + " > " + fast);
    assertTrue(fast < stored, fast + " >= " + stored);
  }

  /** The IDAT chunks' data joined: the zlib stream. */
  private static byte[] zlibStream(byte[] png) {
    ByteArrayOutputStream z = new ByteArrayOutputStream();
    for (Chunk c : chunks(png)) {
      if (c.type().equals("IDAT")) {
        z.writeBytes(c.data());
      }
    }
    return z.toByteArray();
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 4, 9})
  void splitStreamDecodesToTheSamePixelsAndIsOneValidZlibStream(int level) throws Exception {
    int w = 700;
    int h = 1500; // 4 MB of RGBA rows: enough for several parts
    int[] argb = photoLike(w, h, level);
    PngEncoder enc = new PngEncoder(level);
    byte[] single = enc.encodeRgba(w, h, argb);
    byte[] split = Parallel.with(3, () -> enc.encodeRgba(w, h, argb));
    assertTrue(!Arrays.equals(single, split), "3 parts wanted: the split stream differs in bytes");
    assertArrayEquals(decodeWithOurDecoder(single), decodeWithOurDecoder(split));
    assertArrayEquals(argb, decodeWithOurDecoder(split));
    BufferedImage back = readWithImageIO(split);
    assertEquals(argb[w * h / 2 + 3], back.getRGB(3, h / 2));
    // the zlib wrapper checks header and Adler-32: one stream, fully consumed
    byte[] z = zlibStream(split);
    Inflater inf = new Inflater();
    inf.setInput(z);
    byte[] raw = new byte[(w * 4 + 1) * h + 1];
    int n = inf.inflate(raw);
    assertTrue(inf.finished(), "one complete zlib stream");
    assertEquals(0, inf.getRemaining(), "nothing after the stream");
    assertEquals((w * 4 + 1) * h, n);
    inf.end();
    assertTrue(split.length < single.length * 1.01, split.length + " vs " + single.length);
  }

  @Test
  void zlibHeaderMatchesZlib() {
    for (int level = 0; level <= 9; level++) {
      java.util.zip.Deflater d = new java.util.zip.Deflater(level);
      d.setInput(new byte[1]);
      d.finish();
      byte[] buf = new byte[64];
      d.deflate(buf);
      d.end();
      assertArrayEquals(Arrays.copyOf(buf, 2), PngEncoder.zlibHeader(level), "level " + level);
    }
  }

  @Test
  void adlerCombineMatchesOneRun() {
    byte[] a = new byte[100_000];
    byte[] b = new byte[70_001];
    new Random(5).nextBytes(a);
    new Random(6).nextBytes(b);
    java.util.zip.Adler32 whole = new java.util.zip.Adler32();
    whole.update(a);
    whole.update(b);
    java.util.zip.Adler32 sa = new java.util.zip.Adler32();
    sa.update(a);
    java.util.zip.Adler32 sb = new java.util.zip.Adler32();
    sb.update(b);
    assertEquals(whole.getValue(), PngEncoder.adler32Combine(sa.getValue(), sb.getValue(), b.length));
  }

  @Test
  void rejectsBadArguments() {
    PngEncoder enc = new PngEncoder();
    assertThrows(IllegalArgumentException.class, () -> new PngEncoder(10));
    assertThrows(IllegalArgumentException.class, () -> enc.encodeRgba(0, 1, new int[0]));
    assertThrows(IllegalArgumentException.class, () -> enc.encodeRgba(2, 2, new int[3]));
    assertThrows(IllegalArgumentException.class, () -> enc.encodeGray(2, 2, null));
  }

  @Test
  void runsDeflateWritesPngsEveryDecoderReadsWithTheSamePixels() throws Exception {
    PngEncoder runs = new PngEncoder(PngEncoder.Deflate.RUNS, PngEncoder.DEFAULT_LEVEL);
    assertEquals(PngEncoder.Deflate.RUNS, PngEncoder.Deflate.parse("runs"));
    assertThrows(IllegalArgumentException.class, () -> PngEncoder.Deflate.parse("lz4"));
    // tiny, noise, and grey/RGB
    assertArrayEquals(new int[] {0x12345678}, decodeWithOurDecoder(runs.encodeRgba(1, 1, new int[] {0x12345678})));
    int[] column = {0xFF000000, 0x00FFFFFF, 0x80808080};
    assertArrayEquals(column, decodeWithOurDecoder(runs.encodeRgba(1, 3, column)));
    int[] noise = new Random(5).ints(61 * 47).toArray();
    assertArrayEquals(noise, decodeWithOurDecoder(runs.encodeRgba(61, 47, noise)));
    BufferedImage rgb = readWithImageIO(runs.encodeRgb(61, 47, noise));
    assertEquals(noise[100] | 0xFF000000, rgb.getRGB(100 % 61, 100 / 61));
    byte[] grey = new byte[200 * 33];
    new Random(9).nextBytes(grey);
    int[] samples = readWithImageIO(runs.encodeGray(200, 33, grey)).getRaster().getSamples(0, 0, 200, 33, 0, (int[]) null);
    for (int k = 0; k < samples.length; k++) {
      assertEquals(grey[k] & 0xFF, samples[k], "grey pixel " + k);
    }
    // a photo-like cutout in one part and split over 3 (one zlib stream either way)
    int w = 700;
    int h = 1500;
    int[] argb = photoLike(w, h, 11);
    for (int parts : new int[] {1, 3}) {
      byte[] png = Parallel.with(parts, () -> runs.encodeRgba(w, h, argb));
      assertArrayEquals(argb, decodeWithOurDecoder(png), parts + " part(s)");
      assertEquals(argb[w * h / 2 + 3], readWithImageIO(png).getRGB(3, h / 2));
      Inflater inf = new Inflater();
      inf.setInput(zlibStream(png));
      byte[] raw = new byte[(w * 4 + 1) * h + 1];
      assertEquals((w * 4 + 1) * h, inf.inflate(raw));
      assertTrue(inf.finished(), "one complete zlib stream, its Adler-32 right");
      assertEquals(0, inf.getRemaining(), "nothing after the stream");
      inf.end();
      // sizes against zlib are measured on real cutouts (bench/README, PngDeflateBench), not on this pattern
      assertTrue(png.length < raw.length / 2, "compresses: " + png.length + " of " + raw.length + " bytes");
    }
  }
}
