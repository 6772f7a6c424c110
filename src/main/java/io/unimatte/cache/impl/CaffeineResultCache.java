package io.unimatte.cache.impl;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.unimatte.cache.ResultCache;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;

/** {@link ResultCache} on Caffeine, bounded by {@link CachedResult#weight()} and expiring after access. */
public final class CaffeineResultCache implements ResultCache {
  private final long maxBytes;
  private final Cache<String, CachedResult> cache;

  /**
   * @param executor where eviction work runs; {@code null} keeps Caffeine's default
   */
  public CaffeineResultCache(long maxBytes, Duration expireAfterAccess, Ticker ticker, Executor executor) {
    this.maxBytes = maxBytes;
    Caffeine<Object, Object> b = Caffeine.newBuilder()
        .maximumWeight(maxBytes)
        .expireAfterAccess(expireAfterAccess)
        .ticker(ticker)
        .recordStats();
    if (executor != null) {
      b.executor(executor);
    }
    this.cache = b.<String, CachedResult>weigher((k, v) -> weigh(v)).build();
  }

  /** Caffeine weighs in ints; a payload near 2 GiB saturates instead of wrapping negative. */
  private static int weigh(CachedResult v) {
    return (int) Math.min(Integer.MAX_VALUE, v.weight());
  }

  @Override
  public Optional<CachedResult> get(String key) {
    return Optional.ofNullable(cache.getIfPresent(Objects.requireNonNull(key, "key")));
  }

  @Override
  public void put(String key, CachedResult value) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    // Caffeine would admit it and then evict it (and maybe others first); skipping is cheaper and clearer.
    if (value.weight() > maxBytes) {
      return;
    }
    cache.put(key, value);
  }

  @Override
  public CacheStats stats() {
    var s = cache.stats();
    // Always present: the cache is built with maximumWeight, so it has a weighted eviction policy.
    long weighted = cache.policy().eviction().map(e -> e.weightedSize().orElse(0L)).orElse(0L);
    return new CacheStats(s.hitCount(), s.missCount(), s.evictionCount(), cache.estimatedSize(), weighted, maxBytes);
  }

  @Override
  public void invalidateAll() {
    cache.invalidateAll();
  }

  @Override
  public void cleanUp() {
    cache.cleanUp();
  }
}
