package io.unimatte.cache.impl;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import io.unimatte.cache.ResultCache;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;

/** {@link ResultCache} on Caffeine, weighed by payload bytes. */
public final class CaffeineResultCache implements ResultCache {
  /** Rough per-entry heap cost beyond the payload (key, headers, node). */
  public static final int ENTRY_OVERHEAD_BYTES = 512;

  private final boolean enabled;
  private final long maxBytes;
  private final Cache<String, CachedResult> cache;
  private final LongAdder disabledMisses = new LongAdder();

  public CaffeineResultCache(boolean enabled, long maxBytes, Duration expireAfterAccess, Ticker ticker, Executor executor) {
    this.enabled = enabled;
    this.maxBytes = maxBytes;
    Caffeine<Object, Object> b = Caffeine.newBuilder()
        .maximumWeight(maxBytes)
        .expireAfterAccess(expireAfterAccess)
        .ticker(ticker)
        .recordStats();
    if (executor != null) {
      b.executor(executor);
    }
    this.cache = b.<String, CachedResult>weigher((k, v) -> weight(v)).build();
  }

  static int weight(CachedResult v) {
    return (int) Math.min(Integer.MAX_VALUE, (long) v.bytes().length + ENTRY_OVERHEAD_BYTES);
  }

  @Override
  public Optional<CachedResult> get(String key) {
    if (!enabled) {
      disabledMisses.increment();
      return Optional.empty();
    }
    return Optional.ofNullable(cache.getIfPresent(key));
  }

  @Override
  public void put(String key, CachedResult value) {
    if (enabled && weight(value) <= maxBytes) {
      cache.put(key, value);
    }
  }

  @Override
  public Stats stats() {
    CacheStats s = cache.stats();
    long weighted = cache.policy().eviction().map(e -> e.weightedSize().orElse(0L)).orElse(0L);
    return new Stats(s.hitCount(), s.missCount() + disabledMisses.sum(), s.evictionCount(), cache.estimatedSize(),
        weighted, maxBytes);
  }

  @Override
  public void invalidateAll() {
    cache.invalidateAll();
    cache.cleanUp();
  }

  /** Runs pending maintenance (tests). */
  public void cleanUp() {
    cache.cleanUp();
  }
}
