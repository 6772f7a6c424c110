package io.unimatte.imaging;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.zip.Adler32;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Writes 8-bit PNGs (RGBA, RGB or grey) directly: signature, IHDR, IDAT, IEND. Each row gets the
 * filter (None, Sub, Up, Average or Paeth) with the smallest sum of absolute differences, the
 * heuristic libpng uses (estimated on a sample of each row's pixels); rows are deflated as they are
 * filtered, so memory stays at a few rows plus the output. The deflate is zlib's at a level, or
 * {@link RunDeflater}'s ({@link Deflate#RUNS}: on photo cutouts it encodes in about half zlib level 4's time,
 * at a similar size). Thread-safe: each
 * call uses its own deflater.
 *
 * <p>Longer than most files on purpose: filters, the parallel deflate that stays one zlib stream, and the
 * chunk writing are one encoder.
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
  /** Fewest rows per part when one image's rows are deflated in parts at once. */
  private static final int MIN_SEGMENT_ROWS = 16;
  /** Fewest filtered bytes per part: below this a part's own Huffman tables and flush cost too much. */
  private static final int MIN_SEGMENT_BYTES = 1 << 20;
  /** zlib header byte 0: deflate with a 32 KiB window. */
  private static final int ZLIB_CMF = 0x78;
  /** The zlib header, read as a big-endian 16-bit number, is a multiple of this. */
  private static final int ZLIB_CHECK = 31;
  private static final long ADLER_BASE = 65521;
  /** Pixels per row on which the filter heuristic is evaluated (all of them in narrower rows). */
  private static final int SAMPLED_PIXELS = 256;

  /** zlib header level of a {@link Deflate#RUNS} stream (informative only: "fast"). */
  private static final int RUNS_HEADER_LEVEL = 1;

  /** How the filtered rows are deflated. */
  public enum Deflate {
    /** zlib at the encoder's level. */
    ZLIB,
    /** {@link RunDeflater}: runs and repeated pixels only, Huffman-coded per block; the level is not used. */
    RUNS;

    /** {@code "zlib"} or {@code "runs"}, as config.json spells them. */
    public static Deflate parse(String name) {
      for (Deflate d : values()) {
        if (d.name().equalsIgnoreCase(name)) {
          return d;
        }
      }
      throw new IllegalArgumentException("PNG deflate must be zlib or runs: " + name);
    }
  }

  private final Deflate deflate;
  private final int level;

  /** An encoder with zlib at {@link #DEFAULT_LEVEL}. */
  public PngEncoder() {
    this(DEFAULT_LEVEL);
  }

  /** @param level zlib compression level, 0 (store) to 9 (smallest) */
  public PngEncoder(int level) {
    this(Deflate.ZLIB, level);
  }

  /** @param level zlib compression level, 0 (store) to 9 (smallest); checked but not used by {@link Deflate#RUNS} */
  public PngEncoder(Deflate deflate, int level) {
    if (level < Deflater.NO_COMPRESSION || level > Deflater.BEST_COMPRESSION) {
      throw new IllegalArgumentException("compression level must be 0..9: " + level);
    }
    this.deflate = Objects.requireNonNull(deflate, "deflate");
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

    int parts = Parallel.partsFor(h, Math.max(MIN_SEGMENT_ROWS, MIN_SEGMENT_BYTES / (rowBytes + 1)));
    if (deflate == Deflate.RUNS) {
      writeSegmented(out, rows, h, rowBytes, bpp, parts);
    } else if (parts == 1) {
      Deflater deflater = new Deflater(level);
      try {
        IdatWriter idat = new IdatWriter(out, deflater);
        filterRows(rows, 0, h, rowBytes, bpp, idat);
        idat.finish();
      } finally {
        deflater.end();
      }
    } else {
      writeSegmented(out, rows, h, rowBytes, bpp, parts);
    }
    writeChunk(out, IEND, new byte[0], 0);
    return out.toByteArray();
  }

  /**
   * Filters rows {@code [from, to)} (the row above {@code from} is written again to filter against) and
   * feeds them to {@code idat} in batches.
   */
  private void filterRows(RowWriter rows, int from, int to, int rowBytes, int bpp, FilteredSink idat) {
    byte[] prev = new byte[rowBytes]; // the row above the first is all zeros
    byte[] cur = new byte[rowBytes];
    if (from > 0) {
      rows.write(from - 1, prev);
    }
    byte[] batch = new byte[Math.max(DEFLATE_BATCH_BYTES, rowBytes + 1)];
    int fill = 0;
    boolean adaptive = deflate == Deflate.RUNS || level != Deflater.NO_COMPRESSION;
    for (int y = from; y < to; y++) {
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
  }

  /**
   * The zlib stream in {@code parts} row ranges deflated at once, as pigz does: each range is raw deflate
   * of its own (no shared window across the cut, which costs a few hundred bytes), ended by a sync flush
   * so the next one starts on a byte boundary; one zlib header before them, the Adler-32 of all filtered
   * bytes (combined from the ranges') after. Still one zlib stream in IDAT chunks: any decoder reads it.
   */
  private void writeSegmented(ByteSink out, RowWriter rows, int h, int rowBytes, int bpp, int parts) {
    ByteSink[] seg = new ByteSink[parts];
    long[] adler = new long[parts];
    long[] length = new long[parts];
    Parallel.forRange(parts, 1, (first, last) -> {
      for (int p = first; p < last; p++) {
        int from = (int) ((long) h * p / parts);
        int to = (int) ((long) h * (p + 1) / parts);
        int expected = (int) Math.min(Integer.MAX_VALUE - 16, (long) (rowBytes + 1) * (to - from) / 4);
        Adler32 sum = new Adler32();
        if (deflate == Deflate.RUNS) {
          RunDeflater runs = new RunDeflater(expected);
          filterRows(rows, from, to, rowBytes, bpp, (data, n) -> {
            sum.update(data, 0, n);
            runs.write(data, 0, n);
          });
          runs.finish(p == parts - 1);
          seg[p] = ByteSink.wrap(runs.buffer(), runs.size());
        } else {
          ByteSink sink = new ByteSink(expected);
          Deflater deflater = new Deflater(level, true);
          try {
            SegmentWriter w = new SegmentWriter(sink, deflater, sum);
            filterRows(rows, from, to, rowBytes, bpp, w);
            w.end(p == parts - 1);
          } finally {
            deflater.end();
          }
          seg[p] = sink;
        }
        adler[p] = sum.getValue();
        length[p] = (long) (rowBytes + 1) * (to - from);
      }
    });
    long total = adler[0];
    for (int p = 1; p < parts; p++) {
      total = adler32Combine(total, adler[p], length[p]);
    }
    ByteSink stream = new ByteSink(2);
    stream.write(zlibHeader(deflate == Deflate.RUNS ? RUNS_HEADER_LEVEL : level), 0, 2);
    ChunkedIdat idat = new ChunkedIdat(out);
    idat.write(stream.buf, 0, stream.size);
    for (ByteSink s : seg) {
      idat.write(s.buf, 0, s.size);
    }
    byte[] trailer = new byte[4];
    putInt(trailer, 0, (int) total);
    idat.write(trailer, 0, 4);
    idat.flush();
  }

  /** The two zlib header bytes zlib itself writes for {@code level} (deflate, 32 KiB window, no dictionary). */
  static byte[] zlibHeader(int level) {
    int cmf = ZLIB_CMF;
    int flevel = level < 2 ? 0 : level < 6 ? 1 : level == 6 ? 2 : 3;
    int flg = flevel << 6;
    flg += ZLIB_CHECK - ((cmf << 8) + flg) % ZLIB_CHECK;
    return new byte[] {(byte) cmf, (byte) flg};
  }

  /** zlib's adler32_combine: the Adler-32 of A followed by B from theirs and B's length. */
  static long adler32Combine(long adlerA, long adlerB, long lengthB) {
    long rem = lengthB % ADLER_BASE;
    long sum1 = adlerA & 0xFFFF;
    long sum2 = rem * sum1 % ADLER_BASE;
    sum1 += (adlerB & 0xFFFF) + ADLER_BASE - 1;
    sum2 += ((adlerA >> 16) & 0xFFFF) + ((adlerB >> 16) & 0xFFFF) + ADLER_BASE - rem;
    sum1 %= ADLER_BASE;
    sum2 %= ADLER_BASE;
    return sum1 | sum2 << 16;
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

  /** Where filtered rows go, a batch at a time. */
  private interface FilteredSink {
    void feed(byte[] data, int n);
  }

  /** Deflates into a fixed buffer and emits an IDAT chunk each time it fills. */
  private static class IdatWriter implements FilteredSink {
    private final ByteSink out;
    private final Deflater deflater;
    private final byte[] buf = new byte[IDAT_CHUNK_BYTES];
    private int len;

    IdatWriter(ByteSink out, Deflater deflater) {
      this.out = out;
      this.deflater = deflater;
    }

    /** Where the full buffer goes: an IDAT chunk here, raw bytes for a part of a split stream. */
    void emit(byte[] b, int n) {
      writeChunk(out, IDAT, b, n);
    }

    @Override
    public void feed(byte[] data, int n) {
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
        emit(buf, len);
        len = 0;
      }
    }

    /** Ends a part that is not the stream's last: a sync flush, so the next part starts byte-aligned. */
    void syncFlush() {
      while (true) {
        int space = buf.length - len;
        int n = deflater.deflate(buf, len, space, Deflater.SYNC_FLUSH);
        len += n;
        if (len == buf.length) {
          emit(buf, len);
          len = 0;
        }
        if (n < space) {
          break; // zlib had room to spare: the flush is complete
        }
      }
      if (len > 0) {
        emit(buf, len);
        len = 0;
      }
    }

    private void drain() {
      len += deflater.deflate(buf, len, buf.length - len, Deflater.NO_FLUSH);
      if (len == buf.length) {
        emit(buf, len);
        len = 0;
      }
    }
  }

  /** One part of a split stream: raw deflate into its own sink, the Adler-32 of its input on the side. */
  private static final class SegmentWriter extends IdatWriter {
    private final ByteSink sink;
    private final Adler32 sum;

    SegmentWriter(ByteSink sink, Deflater deflater, Adler32 sum) {
      super(null, deflater);
      this.sink = sink;
      this.sum = sum;
    }

    @Override
    public void feed(byte[] data, int n) {
      sum.update(data, 0, n);
      super.feed(data, n);
    }

    @Override
    void emit(byte[] b, int n) {
      sink.write(b, 0, n);
    }

    void end(boolean last) {
      if (last) {
        finish();
      } else {
        syncFlush();
      }
    }
  }

  /** Cuts a byte stream into IDAT chunks of {@link #IDAT_CHUNK_BYTES}. */
  private static final class ChunkedIdat {
    private final ByteSink out;
    private final byte[] buf = new byte[IDAT_CHUNK_BYTES];
    private int len;

    ChunkedIdat(ByteSink out) {
      this.out = out;
    }

    void write(byte[] b, int off, int n) {
      while (n > 0) {
        int k = Math.min(n, buf.length - len);
        System.arraycopy(b, off, buf, len, k);
        len += k;
        off += k;
        n -= k;
        if (len == buf.length) {
          flush();
        }
      }
    }

    void flush() {
      if (len > 0) {
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

    /** A sink holding {@code buf[0, size)}, without copying. */
    static ByteSink wrap(byte[] buf, int size) {
      ByteSink s = new ByteSink(0);
      s.buf = buf;
      s.size = size;
      return s;
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
    return "PngEncoder[" + (deflate == Deflate.RUNS ? "runs" : "zlib level " + level) + "]";
  }
}
