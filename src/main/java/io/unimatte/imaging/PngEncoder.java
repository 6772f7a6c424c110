package io.unimatte.imaging;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Writes 8-bit PNGs (RGBA, RGB or grey) directly: signature, IHDR, IDAT, IEND. Each row gets the
 * filter (None, Sub, Up, Average or Paeth) with the smallest sum of absolute differences, the
 * heuristic libpng uses (estimated on a sample of each row's pixels); rows are deflated as they are
 * filtered, so memory stays at a few rows plus the output. Thread-safe: each call uses its own
 * {@link Deflater}.
 */
public final class PngEncoder {

  /** Compression level used by {@link #PngEncoder()}: most of level 9's size at a fraction of its time. */
  public static final int DEFAULT_LEVEL = 4;

  private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  private static final byte[] IHDR = "IHDR".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] IDAT = "IDAT".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] IEND = "IEND".getBytes(StandardCharsets.US_ASCII);
  private static final int IHDR_LENGTH = 13;
  private static final int BIT_DEPTH = 8;
  private static final int COLOR_GREY = 0;
  private static final int COLOR_RGB = 2;
  private static final int COLOR_RGBA = 6;

  static final int FILTER_NONE = 0;
  static final int FILTER_SUB = 1;
  static final int FILTER_UP = 2;
  static final int FILTER_AVERAGE = 3;
  static final int FILTER_PAETH = 4;

  /** Bytes of compressed data per IDAT chunk. */
  private static final int IDAT_CHUNK_BYTES = 1 << 16;
  /** Filtered rows are handed to the deflater in batches of about this many bytes, to limit JNI calls. */
  private static final int DEFLATE_BATCH_BYTES = 1 << 16;
  private static final int CHUNK_OVERHEAD = 12;
  /** Pixels per row on which the filter heuristic is evaluated (all of them in narrower rows). */
  private static final int SAMPLED_PIXELS = 256;

  private final int level;

  /** An encoder at {@link #DEFAULT_LEVEL}. */
  public PngEncoder() {
    this(DEFAULT_LEVEL);
  }

  /** @param level zlib compression level, 0 (store) to 9 (smallest) */
  public PngEncoder(int level) {
    if (level < Deflater.NO_COMPRESSION || level > Deflater.BEST_COMPRESSION) {
      throw new IllegalArgumentException("compression level must be 0..9: " + level);
    }
    this.level = level;
  }

  public int level() {
    return level;
  }

  /** Colour type 6: straight RGBA from packed {@code 0xAARRGGBB} pixels. */
  public byte[] encodeRgba(int w, int h, int[] argb) {
    checkSize(w, h, argb == null ? -1 : argb.length);
    return encode(w, h, COLOR_RGBA, 4, (y, row) -> {
      for (int x = 0, i = y * w, o = 0; x < w; x++, i++, o += 4) {
        int p = argb[i];
        row[o] = (byte) (p >> 16);
        row[o + 1] = (byte) (p >> 8);
        row[o + 2] = (byte) p;
        row[o + 3] = (byte) (p >>> 24);
      }
    });
  }

  /** Colour type 2: RGB from packed pixels, alpha ignored (for opaque results: a quarter smaller). */
  public byte[] encodeRgb(int w, int h, int[] argb) {
    checkSize(w, h, argb == null ? -1 : argb.length);
    return encode(w, h, COLOR_RGB, 3, (y, row) -> {
      for (int x = 0, i = y * w, o = 0; x < w; x++, i++, o += 3) {
        int p = argb[i];
        row[o] = (byte) (p >> 16);
        row[o + 1] = (byte) (p >> 8);
        row[o + 2] = (byte) p;
      }
    });
  }

  /** Colour type 0: 8-bit grey, one byte per pixel (an alpha matte). */
  public byte[] encodeGray(int w, int h, byte[] grey) {
    checkSize(w, h, grey == null ? -1 : grey.length);
    return encode(w, h, COLOR_GREY, 1, (y, row) -> System.arraycopy(grey, y * w, row, 0, w));
  }

  private static void checkSize(int w, int h, int length) {
    if (w <= 0 || h <= 0) {
      throw new IllegalArgumentException("size must be positive: " + w + "x" + h);
    }
    if (length < (long) w * h) {
      throw new IllegalArgumentException(length < 0 ? "no pixels" : "need " + (long) w * h + " pixels, got " + length);
    }
  }

  private interface RowWriter {
    void write(int y, byte[] row);
  }

  private byte[] encode(int w, int h, int colorType, int bpp, RowWriter rows) {
    int rowBytes = Math.multiplyExact(w, bpp);
    long raw = (long) (rowBytes + 1) * h;
    ByteSink out = new ByteSink((int) Math.min(Integer.MAX_VALUE - 16, raw / 4 + 1024));
    out.write(SIGNATURE, 0, SIGNATURE.length);
    byte[] ihdr = new byte[IHDR_LENGTH];
    putInt(ihdr, 0, w);
    putInt(ihdr, 4, h);
    ihdr[8] = BIT_DEPTH;
    ihdr[9] = (byte) colorType;
    // bytes 10..12: compression 0 (deflate), filter method 0, no interlace
    writeChunk(out, IHDR, ihdr, IHDR_LENGTH);

    Deflater deflater = new Deflater(level);
    try {
      IdatWriter idat = new IdatWriter(out, deflater);
      byte[] prev = new byte[rowBytes]; // the row above the first is all zeros
      byte[] cur = new byte[rowBytes];
      byte[] batch = new byte[Math.max(DEFLATE_BATCH_BYTES, rowBytes + 1)];
      int fill = 0;
      boolean adaptive = level != Deflater.NO_COMPRESSION;
      for (int y = 0; y < h; y++) {
        rows.write(y, cur);
        if (fill + rowBytes + 1 > batch.length) {
          idat.feed(batch, fill);
          fill = 0;
        }
        // stored blocks (level 0) gain nothing from filtering
        int filter = adaptive ? chooseFilter(cur, prev, bpp) : FILTER_NONE;
        batch[fill] = (byte) filter;
        applyFilter(filter, cur, prev, bpp, batch, fill + 1);
        fill += rowBytes + 1;
        byte[] t = prev;
        prev = cur;
        cur = t;
      }
      idat.feed(batch, fill);
      idat.finish();
    } finally {
      deflater.end();
    }
    writeChunk(out, IEND, new byte[0], 0);
    return out.toByteArray();
  }

  /**
   * Picks each row's filter by libpng's heuristic (smallest sum of |signed filtered byte|) but
   * estimates the sums on about {@link #SAMPLED_PIXELS} evenly spaced pixels instead of the whole
   * row, then filters the row once with the winner. Scoring all five filters on every byte cost as
   * much as deflating; on sampled pixels it is negligible and picks the same filters nearly always.
   */
  static int chooseFilter(byte[] cur, byte[] prev, int bpp) {
    int pixels = cur.length / bpp;
    int step = Math.max(1, pixels / SAMPLED_PIXELS);
    int sNone = 0;
    int sSub = 0;
    int sUp = 0;
    int sAvg = 0;
    int sPaeth = 0;
    for (int px = 0; px < pixels; px += step) {
      int base = px * bpp;
      for (int i = base; i < base + bpp; i++) {
        int x = cur[i];
        int a = px == 0 ? 0 : cur[i - bpp] & 0xFF;
        int b = prev[i] & 0xFF;
        int c = px == 0 ? 0 : prev[i - bpp] & 0xFF;
        sNone += Math.abs((byte) x);
        sSub += Math.abs((byte) (x - a));
        sUp += Math.abs((byte) (x - b));
        sAvg += Math.abs((byte) (x - ((a + b) >> 1)));
        sPaeth += Math.abs((byte) (x - paeth(a, b, c)));
      }
    }
    int best = FILTER_NONE;
    int min = sNone;
    if (sSub < min) {
      min = sSub;
      best = FILTER_SUB;
    }
    if (sUp < min) {
      min = sUp;
      best = FILTER_UP;
    }
    if (sAvg < min) {
      min = sAvg;
      best = FILTER_AVERAGE;
    }
    if (sPaeth < min) {
      best = FILTER_PAETH;
    }
    return best;
  }

  /** Writes row {@code cur} filtered with {@code filter} to {@code dst[off...]}; bytes left of the row count as 0. */
  static void applyFilter(int filter, byte[] cur, byte[] prev, int bpp, byte[] dst, int off) {
    int n = cur.length;
    switch (filter) {
      case FILTER_NONE -> System.arraycopy(cur, 0, dst, off, n);
      case FILTER_SUB -> {
        System.arraycopy(cur, 0, dst, off, bpp);
        for (int i = bpp; i < n; i++) {
          dst[off + i] = (byte) (cur[i] - cur[i - bpp]);
        }
      }
      case FILTER_UP -> {
        for (int i = 0; i < n; i++) {
          dst[off + i] = (byte) (cur[i] - prev[i]);
        }
      }
      case FILTER_AVERAGE -> {
        for (int i = 0; i < bpp; i++) {
          dst[off + i] = (byte) (cur[i] - ((prev[i] & 0xFF) >> 1));
        }
        for (int i = bpp; i < n; i++) {
          dst[off + i] = (byte) (cur[i] - (((cur[i - bpp] & 0xFF) + (prev[i] & 0xFF)) >> 1));
        }
      }
      default -> {
        for (int i = 0; i < bpp; i++) {
          dst[off + i] = (byte) (cur[i] - prev[i]); // Paeth with a = c = 0 predicts b
        }
        for (int i = bpp; i < n; i++) {
          dst[off + i] = (byte) (cur[i] - paeth(cur[i - bpp] & 0xFF, prev[i] & 0xFF, prev[i - bpp] & 0xFF));
        }
      }
    }
  }

  /**
   * The PNG Paeth predictor, with sign masks instead of branches: on photo data the comparisons are
   * unpredictable and mispredicted branches made this the most expensive part of encoding.
   */
  private static int paeth(int a, int b, int c) {
    int pa = Math.abs(b - c);
    int pb = Math.abs(a - c);
    int pc = Math.abs(a + b - 2 * c);
    int cLess = (pc - pb) >> 31;           // -1 when pc < pb: c beats b
    int bc = b ^ ((b ^ c) & cLess);
    int pbc = pb ^ ((pb ^ pc) & cLess);
    int bcLess = (pbc - pa) >> 31;         // -1 when min(pb, pc) < pa: a loses (ties go to a, then b)
    return a ^ ((a ^ bc) & bcLess);
  }

  private static void writeChunk(ByteSink out, byte[] type, byte[] data, int len) {
    out.writeInt(len);
    out.write(type, 0, type.length);
    out.write(data, 0, len);
    CRC32 crc = new CRC32();
    crc.update(type, 0, type.length);
    crc.update(data, 0, len);
    out.writeInt((int) crc.getValue());
  }

  private static void putInt(byte[] b, int p, int v) {
    b[p] = (byte) (v >>> 24);
    b[p + 1] = (byte) (v >>> 16);
    b[p + 2] = (byte) (v >>> 8);
    b[p + 3] = (byte) v;
  }

  /** Deflates into a fixed buffer and emits an IDAT chunk each time it fills. */
  private static final class IdatWriter {
    private final ByteSink out;
    private final Deflater deflater;
    private final byte[] buf = new byte[IDAT_CHUNK_BYTES];
    private int len;

    IdatWriter(ByteSink out, Deflater deflater) {
      this.out = out;
      this.deflater = deflater;
    }

    void feed(byte[] data, int n) {
      if (n == 0) {
        return;
      }
      deflater.setInput(data, 0, n);
      while (!deflater.needsInput()) {
        drain();
      }
    }

    void finish() {
      deflater.finish();
      while (!deflater.finished()) {
        drain();
      }
      if (len > 0) {
        writeChunk(out, IDAT, buf, len);
        len = 0;
      }
    }

    private void drain() {
      len += deflater.deflate(buf, len, buf.length - len, Deflater.NO_FLUSH);
      if (len == buf.length) {
        writeChunk(out, IDAT, buf, len);
        len = 0;
      }
    }
  }

  /** Unsynchronised growable byte array (ByteArrayOutputStream locks on every write). */
  private static final class ByteSink {
    private byte[] buf;
    private int size;

    ByteSink(int initial) {
      buf = new byte[Math.max(initial, CHUNK_OVERHEAD)];
    }

    void write(byte[] b, int off, int len) {
      ensure(len);
      System.arraycopy(b, off, buf, size, len);
      size += len;
    }

    void writeInt(int v) {
      ensure(4);
      putInt(buf, size, v);
      size += 4;
    }

    private void ensure(int extra) {
      if (buf.length - size < extra) {
        long want = Math.max((long) size + extra, (long) buf.length + (buf.length >> 1));
        buf = Arrays.copyOf(buf, (int) Math.min(want, Integer.MAX_VALUE - 16));
      }
    }

    byte[] toByteArray() {
      return Arrays.copyOf(buf, size);
    }
  }

  @Override
  public String toString() {
    return "PngEncoder[level=" + level + "]";
  }
}
