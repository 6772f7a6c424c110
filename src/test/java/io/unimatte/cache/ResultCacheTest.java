package io.unimatte.cache;

import com.github.benmanes.caffeine.cache.Ticker;
import io.unimatte.cache.impl.CaffeineResultCache;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResultCacheTest {
  private final AtomicLong nanos = new AtomicLong();
  private final Ticker ticker = nanos::get;

  private ResultCache cache(long maxBytes) {
    return ResultCache.builder().maxBytes(maxBytes).expireAfterAccess(Duration.ofMinutes(10))
        .ticker(ticker).executor(Runnable::run).build();
  }

  private static ResultCache.CachedResult result(int size) {
    return new ResultCache.CachedResult(new byte[size], "image/png", 1, 1, "m", Map.of());
  }

  @Test
  void keyDependsOnBytesModelAndOptions() {
    byte[] a = {1, 2, 3};
    String k = ResultCache.key(a, "isnet", "output=rgba");
    assertEquals(64, k.length());
    assertTrue(k.matches("[0-9a-f]+"));
    assertEquals(k, ResultCache.key(new byte[] {1, 2, 3}, "isnet", "output=rgba"));
    assertNotEquals(k, ResultCache.key(a, "rvm", "output=rgba"));
    assertNotEquals(k, ResultCache.key(a, "isnet", "output=alpha"));
    assertNotEquals(ResultCache.key(a, "ab", "c"), ResultCache.key(a, "a", "bc"));
  }

  @Test
  void hitReturnsTheStoredBytes() {
    ResultCache c = cache(1 << 20);
    byte[] payload = {9, 8, 7};
    c.put("k", new ResultCache.CachedResult(payload, "image/png", 3, 1, "m", Map.of()));
    assertArrayEquals(payload, c.get("k").orElseThrow().bytes());
    assertTrue(c.get("other").isEmpty());
    assertEquals(1, c.stats().hits());
    assertEquals(1, c.stats().misses());
  }

  @Test
  void boundedByBytes() {
    ResultCache c = cache(10_000);
    for (int i = 0; i < 10; i++) {
      c.put("k" + i, result(3_000));
    }
    ((CaffeineResultCache) c).cleanUp();
    assertTrue(c.stats().weightedBytes() <= 10_000, "weighted " + c.stats().weightedBytes());
    assertTrue(c.stats().evictions() > 0);
    c.put("huge", result(20_000));
    assertTrue(c.get("huge").isEmpty(), "an entry larger than the bound is not stored");
  }

  @Test
  void expiresAfterAccessAndAccessRefreshes() {
    ResultCache c = cache(1 << 20);
    c.put("a", result(10));
    c.put("b", result(10));
    nanos.addAndGet(Duration.ofMinutes(6).toNanos());
    assertTrue(c.get("a").isPresent());
    nanos.addAndGet(Duration.ofMinutes(6).toNanos());
    assertTrue(c.get("a").isPresent(), "read 6 minutes ago: still there");
    assertTrue(c.get("b").isEmpty(), "untouched for 12 minutes: expired");
  }

  @Test
  void disabledCacheNeverHits() {
    ResultCache c = ResultCache.builder().enabled(false).maxBytes(1000).expireAfterAccess(Duration.ofSeconds(1)).build();
    c.put("k", result(1));
    assertTrue(c.get("k").isEmpty());
    assertEquals(1, c.stats().misses());
  }

  @Test
  void builderRejectsBadConfiguration() {
    assertThrows(IllegalArgumentException.class, () -> ResultCache.builder().maxBytes(0));
    assertThrows(IllegalArgumentException.class, () -> ResultCache.builder().expireAfterAccess(Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> ResultCache.builder().build());
  }
}
