package io.unimatte.imaging.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The prototype encoder's output is valid deflate that zlib inflates back to the input. */
class RunDeflateTest {

  @Test
  void inflatesBackToTheInput() throws Exception {
    Random rnd = new Random(7);
    // filtered-row-like data: noise, runs of zeros, repeated pixels, a lone byte; several blocks
    byte[] data = new byte[RunDeflate.BLOCK_BYTES * 2 + 12345];
    for (int i = 0; i < data.length; i++) {
      int region = (i / 5000) % 4;
      data[i] = switch (region) {
        case 0 -> (byte) rnd.nextGaussian();
        case 1 -> 0;
        case 2 -> (byte) (i % 4 == 3 ? 255 : i % 4 * 40);
        default -> (byte) rnd.nextInt(256);
      };
    }
    byte[] packed = new RunDeflate().deflate(data, 0, data.length, RunDeflate.BLOCK_BYTES);
    assertArrayEquals(data, RunDeflate.inflateRaw(packed, data.length));
    assertTrue(packed.length < data.length * 0.7, "compressed to " + packed.length + " of " + data.length);
    for (byte[] tiny : new byte[][] {{}, {42}, {0, 0, 0, 0, 0, 0, 0, 0, 0}}) {
      assertArrayEquals(tiny, RunDeflate.inflateRaw(new RunDeflate().deflate(tiny, 0, tiny.length, 16), tiny.length));
    }
  }
}
