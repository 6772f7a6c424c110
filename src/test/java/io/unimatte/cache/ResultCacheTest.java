package io.unimatte.cache;

import com.github.benmanes.caffeine.cache.Ticker;
import io.unimatte.cache.ResultCache.CacheStats;
import io.unimatte.cache.ResultCache.CachedResult;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real Caffeine, a fake ticker and a same-thread executor, so nothing here depends on timing. */
class ResultCacheTest {
  private static final Duration TTL = Duration.ofMinutes(10);
  private static final long ONE_MIB = 1L << 20;
  private static final Executor SAME_THREAD = Runnable::run;
  private static final String MODEL = "isnet";
  private static final String OPTIONS = "output=rgba";

  private final AtomicLong nanos = new AtomicLong();
  private final Ticker ticker = nanos::get;

  private ResultCache cache(long maxBytes) {
    return ResultCache.builder().maxBytes(maxBytes).expireAfterAccess(TTL).ticker(ticker).executor(SAME_THREAD).build();
  }

  private void advance(Duration d) {
    nanos.addAndGet(d.toNanos());
  }

  private static CachedResult result(int size) {
    return new CachedResult(new byte[size], "image/png", 1, 1, MODEL, Map.of());
  }

  @Test
  void hitReturnsTheIdenticalBytesAndMetadata() {
    ResultCache c = cache(ONE_MIB);
    byte[] payload = {9, 8, 7, 6};
    CachedResult stored = new CachedResult(payload, "image/png", 2, 2, MODEL, Map.of("X-Batch-Size", "1"));
    c.put("k", stored);
    CachedResult hit = c.get("k").orElseThrow();
    assertArrayEquals(new byte[] {9, 8, 7, 6}, hit.bytes());
    assertEquals("image/png", hit.contentType());
    assertEquals(2, hit.width());
    assertEquals(2, hit.height());
    assertEquals(MODEL, hit.model());
    assertEquals(Map.of("X-Batch-Size", "1"), hit.headers());
  }

  @Test
  void keyIsStableLowercaseHexOfLength64() {
    String k = ResultCache.key(new byte[] {1, 2, 3}, MODEL, OPTIONS);
    assertEquals(64, k.length());
    assertTrue(k.matches("[0-9a-f]{64}"), k);
    assertEquals(k, ResultCache.key(new byte[] {1, 2, 3}, MODEL, OPTIONS), "same content, fresh arrays");
    assertNotEquals(k, ResultCache.key(new byte[] {1, 2, 4}, MODEL, OPTIONS), "different image bytes");
  }

  @Test
  void differentModelOrOptionsGiveDifferentKeys() {
    byte[] img = {1, 2, 3};
    String k = ResultCache.key(img, MODEL, OPTIONS);
    assertNotEquals(k, ResultCache.key(img, "rvm", OPTIONS));
    assertNotEquals(k, ResultCache.key(img, MODEL, "output=alpha"));
    assertNotEquals(ResultCache.key(img, "ab", "c"), ResultCache.key(img, "a", "bc"), "length-prefixed");
    // Without a length prefix on the input these two byte streams would be identical: 'x' 0004 0000 0000.
    assertNotEquals(ResultCache.key(new byte[] {'x'}, "\0\0\0\0", ""),
        ResultCache.key(new byte[] {'x', 0, 0, 0, 4}, "", ""), "input bytes cannot shift into the model field");
  }

  @Test
  void byteBoundEvictsAndOversizedEntryIsNeverStored() {
    long maxBytes = 10_000;
    int entrySize = 3_000;
    int entriesPut = 10;
    ResultCache c = cache(maxBytes);
    for (int i = 0; i < entriesPut; i++) {
      c.put("k" + i, result(entrySize));
    }
    assertTrue(entriesPut * result(entrySize).weight() > maxBytes, "the test must overflow the bound");
    c.cleanUp();
    CacheStats s = c.stats();
    assertTrue(s.weightedBytes() <= maxBytes, "weighted " + s.weightedBytes());
    assertTrue(s.weightedBytes() > 0);
    assertTrue(s.evictions() > 0);
    assertEquals(maxBytes, s.maxBytes());

    c.put("huge", result((int) maxBytes));
    c.cleanUp();
    assertTrue(c.get("huge").isEmpty(), "payload + overhead exceeds the bound: not stored");
    assertEquals(s.entries(), c.stats().entries(), "and nothing was evicted to make room");
  }

  @Test
  void weightIsPayloadPlusFixedOverhead() {
    assertEquals(100 + CachedResult.OVERHEAD_BYTES, result(100).weight());
    ResultCache c = cache(ONE_MIB);
    c.put("a", result(100));
    c.put("b", result(200));
    c.cleanUp();
    assertEquals(300 + 2L * CachedResult.OVERHEAD_BYTES, c.stats().weightedBytes());
    assertEquals(2, c.stats().entries());
  }

  @Test
  void expiresAfterAccess() {
    ResultCache c = cache(ONE_MIB);
    c.put("k", result(10));
    advance(TTL.minusSeconds(1));
    c.cleanUp();
    assertEquals(1, c.stats().entries(), "not yet");
    advance(TTL);
    assertTrue(c.get("k").isEmpty());
    c.cleanUp();
    assertEquals(0, c.stats().entries());
    assertEquals(1, c.stats().evictions(), "expiry counts as an eviction");
  }

  @Test
  void accessRefreshesExpiry() {
    ResultCache c = cache(ONE_MIB);
    c.put("read", result(10));
    c.put("idle", result(10));
    Duration step = TTL.dividedBy(2).plusSeconds(1);
    advance(step);
    assertTrue(c.get("read").isPresent());
    advance(step);
    assertTrue(c.get("read").isPresent(), "last read one step ago: still there");
    assertTrue(c.get("idle").isEmpty(), "untouched for two steps, longer than the TTL: expired");
  }

  @Test
  void statsCountHitsAndMisses() {
    ResultCache c = cache(ONE_MIB);
    c.put("k", result(1));
    c.get("k");
    c.get("k");
    c.get("absent");
    CacheStats s = c.stats();
    assertEquals(2, s.hits());
    assertEquals(1, s.misses());
    assertEquals(0, s.evictions());
  }

  @Test
  void invalidateAllEmptiesButKeepsCounters() {
    ResultCache c = cache(ONE_MIB);
    c.put("k", result(1));
    c.get("k");
    c.invalidateAll();
    c.cleanUp();
    assertTrue(c.get("k").isEmpty());
    assertEquals(0, c.stats().entries());
    assertEquals(0, c.stats().weightedBytes());
    assertEquals(1, c.stats().hits());
  }

  @Test
  void disabledCacheStoresNothingAndCountsMisses() {
    ResultCache c = ResultCache.builder().enabled(false).build();
    c.put("k", result(1));
    assertTrue(c.get("k").isEmpty());
    assertTrue(c.get("k").isEmpty());
    assertEquals(new CacheStats(0, 2, 0, 0, 0, 0), c.stats());
  }

  @ParameterizedTest
  @ValueSource(longs = {0, -1, Long.MIN_VALUE})
  void builderRejectsNonPositiveMaxBytes(long maxBytes) {
    var e = assertThrows(IllegalArgumentException.class, () -> ResultCache.builder().maxBytes(maxBytes));
    assertTrue(e.getMessage().contains("maxBytes"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(longs = {0, -1})
  void builderRejectsNonPositiveExpiry(long seconds) {
    var e = assertThrows(IllegalArgumentException.class,
        () -> ResultCache.builder().expireAfterAccess(Duration.ofSeconds(seconds)));
    assertTrue(e.getMessage().contains("expireAfterAccess"), e.getMessage());
  }

  @Test
  void builderNamesMissingOrNullKnobs() {
    assertMessageNames("maxBytes", () -> ResultCache.builder().expireAfterAccess(TTL).build());
    assertMessageNames("expireAfterAccess", () -> ResultCache.builder().maxBytes(ONE_MIB).build());
    assertMessageNames("expireAfterAccess", () -> ResultCache.builder().expireAfterAccess(null));
    assertMessageNames("ticker", () -> ResultCache.builder().ticker(null));
    assertMessageNames("executor", () -> ResultCache.builder().executor(null));
  }

  @Test
  void fromConfigBuildsEnabledAndDisabledCaches() {
    JsonObject on = config();
    ResultCache c = ResultCache.fromConfig(on);
    c.put("k", result(1));
    assertTrue(c.get("k").isPresent());
    assertEquals(on.getLong("maxBytes"), c.stats().maxBytes());

    ResultCache off = ResultCache.fromConfig(config().put("enabled", false));
    off.put("k", result(1));
    assertTrue(off.get("k").isEmpty());
  }

  @ParameterizedTest
  @ValueSource(strings = {"enabled", "maxBytes", "expireAfterAccessSeconds"})
  void fromConfigNamesMissingKey(String key) {
    JsonObject section = config();
    section.remove(key);
    assertMessageNames(key, () -> ResultCache.fromConfig(section));
  }

  @Test
  void fromConfigRejectsBadValues() {
    assertMessageNames("maxBytes", () -> ResultCache.fromConfig(config().put("maxBytes", 0)));
    assertMessageNames("maxBytes", () -> ResultCache.fromConfig(config().put("maxBytes", 1.5)));
    assertMessageNames("expireAfterAccessSeconds",
        () -> ResultCache.fromConfig(config().put("expireAfterAccessSeconds", -1)));
    assertMessageNames("enabled", () -> ResultCache.fromConfig(config().put("enabled", "yes")));
    assertFalse(ResultCache.fromConfig(config()).get("absent").isPresent());
  }

  private static JsonObject config() {
    return new JsonObject().put("enabled", true).put("maxBytes", ONE_MIB).put("expireAfterAccessSeconds", 60L);
  }

  private static void assertMessageNames(String knob, org.junit.jupiter.api.function.Executable call) {
    var e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().contains(knob), "'" + e.getMessage() + "' should name " + knob);
  }
}
