package io.unimatte.imaging;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.junit.jupiter.api.Test;

/** Streams {@link RunDeflater} writes inflate back to their input with zlib's own inflater, whatever the input. */
class RunDeflaterTest {

  /** Deflates {@code data} fed in pieces of {@code piece} bytes, as one final stream. */
  private static byte[] deflate(byte[] data, int piece) {
    RunDeflater d = new RunDeflater(16);
    for (int off = 0; off < data.length; off += piece) {
      d.write(data, off, Math.min(piece, data.length - off));
    }
    d.finish(true);
    return Arrays.copyOf(d.buffer(), d.size());
  }

  /** Inflates raw deflate, failing unless it is one complete stream with nothing after it. */
  private static byte[] inflate(byte[] raw) throws DataFormatException {
    Inflater inf = new Inflater(true);
    inf.setInput(raw);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[1 << 16];
    while (!inf.finished()) {
      int n = inf.inflate(buf);
      if (n == 0 && !inf.finished() && (inf.needsInput() || inf.needsDictionary())) {
        throw new DataFormatException("the stream ends without a final block after " + out.size() + " bytes");
      }
      out.write(buf, 0, n);
    }
    assertEquals(0, inf.getRemaining(), "nothing after the final block");
    inf.end();
    return out.toByteArray();
  }

  private static void assertRoundTrip(String what, byte[] data) throws Exception {
    for (int piece : new int[] {data.length == 0 ? 1 : data.length, 1, 7, 4096, RunDeflater.BLOCK_BYTES + 3}) {
      assertArrayEquals(data, inflate(deflate(data, piece)), what + " fed in pieces of " + piece);
    }
  }

  @Test
  void edgeSizesAndContents() throws Exception {
    for (int n : new int[] {0, 1, 2, 3, 4, 5, 8, 9, 258, 259, 262, 1000}) {
      assertRoundTrip(n + " zeros", new byte[n]);
      byte[] noise = new byte[n];
      new Random(n).nextBytes(noise);
      assertRoundTrip(n + " random bytes", noise);
    }
    byte[] one = new byte[300_000];
    Arrays.fill(one, (byte) 7);
    assertRoundTrip("one value across blocks", one);
    byte[] pixel = new byte[300_001];
    for (int i = 0; i < pixel.length; i++) {
      pixel[i] = (byte) (i % 4 * 60 + 1);
    }
    assertRoundTrip("one pixel repeated across blocks", pixel);
    byte[] two = new byte[5000];
    for (int i = 0; i < two.length; i++) {
      two[i] = (byte) (i % 2);
    }
    assertRoundTrip("two symbols alternating", two);
  }

  @Test
  void photoLikeRowsWithRunsNoiseAndRepeatsRoundTripAndShrink() throws Exception {
    Random rnd = new Random(42);
    byte[] data = new byte[3 * RunDeflater.BLOCK_BYTES + 12345];
    for (int i = 0; i < data.length; ) {
      int kind = rnd.nextInt(4);
      int len = 1 + rnd.nextInt(kind == 0 ? 2000 : 300);
      for (int k = 0; k < len && i < data.length; k++, i++) {
        data[i] = switch (kind) {
          case 0 -> 0; // transparent rows after filtering
          case 1 -> (byte) rnd.nextGaussian(); // small filtered differences
          case 2 -> i >= 4 ? data[i - 4] : 1; // a pixel repeated
          default -> (byte) rnd.nextInt(256);
        };
      }
    }
    byte[] z = deflate(data, 65_537);
    assertArrayEquals(data, inflate(z));
    assertTrue(z.length < data.length * 0.7, "compresses: " + z.length + " of " + data.length);
  }

  @Test
  void partsEndedBySyncFlushJoinIntoOneStream() throws Exception {
    byte[] a = new byte[70_000];
    byte[] b = new byte[50_000];
    new Random(1).nextBytes(a);
    Arrays.fill(b, 0, 20_000, (byte) 3);
    RunDeflater first = new RunDeflater(16);
    first.write(a, 0, a.length);
    first.finish(false);
    byte[] head = Arrays.copyOf(first.buffer(), first.size());
    assertArrayEquals(new byte[] {0, 0, (byte) 0xFF, (byte) 0xFF}, Arrays.copyOfRange(head, head.length - 4, head.length),
        "a part ends with an empty stored block");
    RunDeflater second = new RunDeflater(16);
    second.write(b, 0, b.length);
    second.finish(true);
    ByteArrayOutputStream joined = new ByteArrayOutputStream();
    joined.writeBytes(head);
    joined.write(second.buffer(), 0, second.size());
    ByteArrayOutputStream both = new ByteArrayOutputStream();
    both.writeBytes(a);
    both.writeBytes(b);
    assertArrayEquals(both.toByteArray(), inflate(joined.toByteArray()));
  }

  @Test
  void codesAreCompleteAndWithinTheLimitEvenForSkewedCounts() {
    // Fibonacci counts make the deepest possible Huffman tree: 40 symbols would need 39 bits
    int[] freq = new int[286];
    long a = 1;
    long b = 1;
    for (int s = 0; s < 40; s++) {
      freq[s] = (int) Math.min(a, Integer.MAX_VALUE / 4);
      long t = a + b;
      a = b;
      b = t;
    }
    for (int limit : new int[] {7, 15}) {
      int[] skewed = Arrays.copyOf(freq, limit == 7 ? 19 : 286);
      int[] lengths = RunDeflater.codeLengths(skewed, limit);
      assertEquals(1.0, kraft(lengths), 1e-12, "a complete code");
      for (int s = 0; s < skewed.length; s++) {
        assertTrue(lengths[s] <= limit, "symbol " + s + ": " + lengths[s] + " bits");
        assertEquals(skewed[s] > 0, lengths[s] > 0, "symbol " + s + " has a code exactly when it is used");
      }
    }
    int[] single = new int[19];
    single[8] = 500;
    int[] lengths = RunDeflater.codeLengths(single, 7);
    assertEquals(1.0, kraft(lengths), 1e-12, "one used symbol gets a partner: zlib refuses a one-code set");
    assertEquals(1, lengths[8]);
  }

  private static double kraft(int[] lengths) {
    double sum = 0;
    for (int l : lengths) {
      if (l > 0) {
        sum += Math.pow(2, -l);
      }
    }
    return sum;
  }
}
