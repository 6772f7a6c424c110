package io.unimatte.batching;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class EngineStatsTest {

  private static EngineStats stats(long[] histogram) {
    return new EngineStats(10, 6, 1, 1, 1, 1, 3, 6, 3, histogram, 300, 100, 0, 0);
  }

  @Test
  void snapshotIsImmutableAndComparesByValue() {
    long[] hist = {0, 1, 1, 1};
    EngineStats s = stats(hist);
    hist[1] = 99;
    s.batchSizeHistogram()[2] = 99;
    assertArrayEquals(new long[] {0, 1, 1, 1}, s.batchSizeHistogram());
    assertEquals(stats(new long[] {0, 1, 1, 1}), s);
    assertEquals(stats(new long[] {0, 1, 1, 1}).hashCode(), s.hashCode());
  }

  @Test
  void derivedFigures() {
    EngineStats s = stats(new long[] {0, 1, 1, 1});
    assertEquals(2.0, s.meanBatchSize());
    assertEquals(100.0, s.meanBatchNanos());
    assertEquals(1, s.batchesOfSize(3));
    assertEquals(0, s.batchesOfSize(4));
    assertEquals(0, s.batchesOfSize(-1));
    assertEquals(0, s.pending());
  }
}
