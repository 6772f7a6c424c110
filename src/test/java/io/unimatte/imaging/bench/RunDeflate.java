package io.unimatte.imaging.bench;

import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.ImageDecoder;
import io.unimatte.imaging.ImageLimits;
import java.io.ByteArrayOutputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.PriorityQueue;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * A prototype deflate encoder for filtered PNG rows (not used by the server yet; issue 15's next lever), and
 * its benchmark against zlib. Raw deflate in dynamic-Huffman blocks whose only matches are the ones filtered
 * image rows are full of: a byte repeated (distance 1) or a pixel repeated (distance 4), found by comparing
 * 4-byte words, so a noisy photo costs one well-predicted branch per byte instead of zlib's hash chains.
 * Measured on the cutouts of camera-sized photos it is faster than zlib level 4, with output from a few
 * per cent smaller to ~11 % larger (docs/PERFORMANCE.md). Before it can write the server's PNGs: guard the
 * Huffman edge cases zlib's inflater refuses (a code-length code of one symbol is an incomplete set), run it
 * over the PNG test corpus, and split it over cores like {@code PngEncoder}'s parts. Usage: {@code RunDeflate PHOTO_DIR MATTE_DIR NAME[,NAME...]} (photos and mattes as
 * for {@link PostBench}): cuts each photo out, inflates its PNG's IDAT back to the filtered rows, and times
 * zlib levels 1 and 4 and this encoder on them, checking that the output inflates to the same bytes.
 * Not thread-safe: one instance per stream.
 */
public final class RunDeflate {
  /** Longest match deflate allows. */
  private static final int MAX_MATCH = 258;
  /** Shortest match taken: at 3 a length/distance pair costs about as much as the literals. */
  private static final int MIN_MATCH = 4;
  private static final int MAX_CODE_BITS = 15;
  private static final int MAX_CODE_LENGTH_BITS = 7;
  /** Input bytes per block: each block carries its own Huffman tables. */
  public static final int BLOCK_BYTES = 1 << 18;
  private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

  static final int[] LEN_BASE = {3,4,5,6,7,8,9,10,11,13,15,17,19,23,27,31,35,43,51,59,67,83,99,115,131,163,195,227,258};
  static final int[] LEN_EXTRA = {0,0,0,0,0,0,0,0,1,1,1,1,2,2,2,2,3,3,3,3,4,4,4,4,5,5,5,5,0};
  static final int[] LEN_SYM = new int[259];
  static { for (int s = 0; s < 29; s++) { int end = s == 28 ? 259 : LEN_BASE[s + 1]; for (int l = LEN_BASE[s]; l < end && l < 259; l++) LEN_SYM[l] = s; } LEN_SYM[258] = 28; }
  static final int[] CL_ORDER = {16,17,18,0,8,7,9,6,10,5,11,4,12,3,13,2,14,1,15};

  byte[] out = new byte[1 << 20]; int pos; long bits; int nbits;
  void put(int v, int n) {
    bits |= ((long) v) << nbits; nbits += n;
    if (nbits >= 32) {
      if (pos + 8 > out.length) out = Arrays.copyOf(out, out.length * 2);
      out[pos] = (byte) bits; out[pos + 1] = (byte) (bits >>> 8); out[pos + 2] = (byte) (bits >>> 16); out[pos + 3] = (byte) (bits >>> 24);
      pos += 4; bits >>>= 32; nbits -= 32;
    }
  }
  void flushBits() { while (nbits > 0) { if (pos == out.length) out = Arrays.copyOf(out, pos * 2); out[pos++] = (byte) bits; bits >>>= 8; nbits -= 8; } nbits = 0; bits = 0; }

  /** Raw deflate (no zlib header) of {@code d[off, off+len)}, the last block final. */
  public byte[] deflate(byte[] d, int off, int len, int blockSize) {
    if (len == 0) {
      put(1, 1); // one final block of fixed codes holding only end-of-block (7 zero bits)
      put(1, 2);
      put(0, 7);
      flushBits();
      return Arrays.copyOf(out, pos);
    }
    int[] tok = new int[blockSize];
    for (int b = off, end = off + len; b < end; b += blockSize) {
      int be = Math.min(end, b + blockSize);
      int nt = 0;
      int[] lf = new int[286]; int[] df = new int[30];
      int i = b;
      int safe = be - 4;
      while (i < be) {
        if (i < safe && i - off >= 4) {
          int w = (int) INT.get(d, i);
          if (w != (int) INT.get(d, i - 4) && w != (int) INT.get(d, i - 1)) {
            tok[nt++] = d[i] & 0xFF | 0x80000000; lf[d[i] & 0xFF]++; i++;
            continue;
          }
        }
        int best = 0, bd = 0;
        if (i - off >= 1 && d[i] == d[i - 1]) { int m = Math.min(MAX_MATCH, be - i); int k = 1; while (k < m && d[i + k] == d[i + k - 1]) k++; best = k; bd = 1; }
        if (best < MAX_MATCH && i - off >= 4 && d[i] == d[i - 4]) { int m = Math.min(MAX_MATCH, be - i); int k = 1; while (k < m && d[i + k] == d[i + k - 4]) k++; if (k > best) { best = k; bd = 4; } }
        if (best >= MIN_MATCH) { tok[nt++] = best << 8 | bd; lf[257 + LEN_SYM[best]]++; df[bd == 1 ? 0 : 3]++; i += best; }
        else { tok[nt++] = d[i] & 0xFF | 0x80000000; lf[d[i] & 0xFF]++; i++; }
      }
      lf[256]++;
      if (df[0] == 0 && df[3] == 0) df[0] = 1;
      int[] ll = lengths(lf, MAX_CODE_BITS); int[] dl = lengths(df, MAX_CODE_BITS);
      int[] lc = codes(ll); int[] dc = codes(dl);
      put(be == end ? 1 : 0, 1); put(2, 2);
      int hlit = 286; while (hlit > 257 && ll[hlit - 1] == 0) hlit--;
      int hdist = 30; while (hdist > 1 && dl[hdist - 1] == 0) hdist--;
      int[] all = new int[hlit + hdist]; System.arraycopy(ll, 0, all, 0, hlit); System.arraycopy(dl, 0, all, hlit, hdist);
      int[] rle = new int[all.length * 2]; int nr = 0; int[] cf = new int[19];
      for (int k = 0; k < all.length;) {
        int v = all[k]; int r = 1; while (k + r < all.length && all[k + r] == v) r++;
        if (v == 0 && r >= 3) { int n = Math.min(r, 138); if (n >= 11) { rle[nr++] = 18 | (n - 11) << 8; cf[18]++; } else { rle[nr++] = 17 | (n - 3) << 8; cf[17]++; } k += n; }
        else if (v != 0 && r >= 4) { rle[nr++] = v; cf[v]++; int n = Math.min(r - 1, 6); rle[nr++] = 16 | (n - 3) << 8; cf[16]++; k += n + 1; }
        else { rle[nr++] = v; cf[v]++; k++; }
      }
      int[] cl = lengths(cf, MAX_CODE_LENGTH_BITS); int[] cc = codes(cl);
      int hclen = 19; while (hclen > 4 && cl[CL_ORDER[hclen - 1]] == 0) hclen--;
      put(hlit - 257, 5); put(hdist - 1, 5); put(hclen - 4, 4);
      for (int k = 0; k < hclen; k++) put(cl[CL_ORDER[k]], 3);
      for (int k = 0; k < nr; k++) { int s = rle[k] & 0xFF; put(cc[s], cl[s]); if (s == 16) put(rle[k] >>> 8, 2); else if (s == 17) put(rle[k] >>> 8, 3); else if (s == 18) put(rle[k] >>> 8, 7); }
      for (int k = 0; k < nt; k++) {
        int t = tok[k];
        if (t < 0) { int c = t & 0xFF; put(lc[c], ll[c]); }
        else { int l = t >>> 8; int s = LEN_SYM[l]; put(lc[257 + s], ll[257 + s]); if (LEN_EXTRA[s] > 0) put(l - LEN_BASE[s], LEN_EXTRA[s]); int ds = (t & 0xFF) == 1 ? 0 : 3; put(dc[ds], dl[ds]); }
      }
      put(lc[256], ll[256]);
    }
    flushBits();
    return Arrays.copyOf(out, pos);
  }

  static int[] lengths(int[] freq, int max) {
    int n = freq.length; int[] f = freq.clone();
    while (true) {
      int[] len = huff(f);
      int m = 0; for (int v : len) m = Math.max(m, v);
      if (m <= max) return len;
      for (int k = 0; k < n; k++) if (f[k] > 0) f[k] = (f[k] + 1) / 2;
    }
  }
  static int[] huff(int[] f) {
    int n = f.length; int[] len = new int[n];
    int used = 0; for (int v : f) if (v > 0) used++;
    if (used == 0) return len;
    if (used == 1) { for (int k = 0; k < n; k++) if (f[k] > 0) len[k] = 1; return len; }
    int[] parent = new int[2 * n]; long[] w = new long[2 * n];
    PriorityQueue<long[]> pq = new PriorityQueue<>((a, b) -> Long.compare(a[0], b[0]) != 0 ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
    for (int k = 0; k < n; k++) if (f[k] > 0) pq.add(new long[] {f[k], k});
    int next = n;
    while (pq.size() > 1) { long[] a = pq.poll(), b = pq.poll(); parent[(int) a[1]] = next; parent[(int) b[1]] = next; pq.add(new long[] {a[0] + b[0], next}); next++; }
    int root = next - 1;
    int[] depth = new int[2 * n];
    for (int k = root - 1; k >= 0; k--) { if (k >= n || f[k] > 0) depth[k] = depth[parent[k]] + 1; }
    for (int k = 0; k < n; k++) if (f[k] > 0) len[k] = depth[k];
    return len;
  }
  static int[] codes(int[] len) {
    int[] count = new int[16]; for (int l : len) if (l > 0) count[l]++;
    int[] next = new int[16]; int code = 0; for (int b = 1; b < 16; b++) { code = (code + count[b - 1]) << 1; next[b] = code; }
    int[] c = new int[len.length];
    for (int k = 0; k < len.length; k++) if (len[k] > 0) { int v = next[len[k]]++; int r = 0; for (int j = 0; j < len[k]; j++) { r = (r << 1) | (v & 1); v >>= 1; } c[k] = r; }
    return c;
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println("usage: RunDeflate PHOTO_DIR MATTE_DIR NAME[,NAME...]");
      System.exit(2);
    }
    ImageDecoder dec = new ImageDecoder(new ImageLimits(200L << 20, 60_000_000L, 1000));
    for (String n : args[2].split(",")) {
      DecodedImage img = dec.decode(Files.readAllBytes(Path.of(args[0], n)));
      int[] size = new int[2];
      float[] m = MatteDump.read(Path.of(args[1], n + ".f32"), size);
      byte[] raw = inflateIdat(PostPipeline.run(img.width(), img.height(), img.argb(), m, size[0], size[1], new long[4]));
      StringBuilder sb = new StringBuilder(n + " filtered " + raw.length / 1_000_000 + " MB");
      for (int lv : new int[] {1, 4}) {
        long best = Long.MAX_VALUE;
        int bytes = 0;
        for (int r = 0; r < 3; r++) {
          long t0 = System.nanoTime();
          Deflater d = new Deflater(lv, true);
          d.setInput(raw);
          d.finish();
          byte[] buf = new byte[raw.length];
          int tot = 0;
          while (!d.finished()) {
            tot += d.deflate(buf, 0, buf.length);
          }
          d.end();
          best = Math.min(best, System.nanoTime() - t0);
          bytes = tot;
        }
        sb.append(String.format("  zlib L%d %d ms %.2f MB", lv, best / 1_000_000, bytes / 1e6));
      }
      long best = Long.MAX_VALUE;
      byte[] o = null;
      for (int r = 0; r < 3; r++) {
        long t0 = System.nanoTime();
        o = new RunDeflate().deflate(raw, 0, raw.length, BLOCK_BYTES);
        best = Math.min(best, System.nanoTime() - t0);
      }
      sb.append(String.format("  runs %d ms %.2f MB, inflates back: %s", best / 1_000_000, o.length / 1e6,
          Arrays.equals(inflateRaw(o, raw.length), raw)));
      System.out.println(sb);
    }
  }

  /** The filtered rows of a PNG: its IDAT chunks joined and inflated. */
  static byte[] inflateIdat(byte[] png) throws Exception {
    ByteArrayOutputStream z = new ByteArrayOutputStream();
    int p = 8;
    while (p < png.length) {
      int len = (png[p] & 0xFF) << 24 | (png[p + 1] & 0xFF) << 16 | (png[p + 2] & 0xFF) << 8 | png[p + 3] & 0xFF;
      if (new String(png, p + 4, 4, StandardCharsets.US_ASCII).equals("IDAT")) {
        z.write(png, p + 8, len);
      }
      p += 12 + len;
    }
    Inflater inf = new Inflater();
    inf.setInput(z.toByteArray());
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    byte[] buf = new byte[1 << 20];
    while (!inf.finished()) {
      o.write(buf, 0, inf.inflate(buf));
    }
    inf.end();
    return o.toByteArray();
  }

  /** Inflates raw deflate that should hold {@code expected} bytes (one more is read to catch excess). */
  static byte[] inflateRaw(byte[] raw, int expected) throws Exception {
    Inflater inf = new Inflater(true);
    inf.setInput(raw);
    byte[] back = new byte[expected + 1];
    int got = 0;
    while (!inf.finished() && got < back.length) {
      int k = inf.inflate(back, got, back.length - got);
      if (k == 0 && inf.needsInput()) {
        break;
      }
      got += k;
    }
    boolean finished = inf.finished();
    inf.end();
    if (!finished) {
      throw new java.util.zip.DataFormatException("the stream has no final block (" + got + " bytes inflated)");
    }
    return Arrays.copyOf(back, got);
  }
}
