package io.unimatte.cache.impl;

import io.unimatte.cache.ResultCache;

import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;

/** The cache switched off: stores nothing, and counts every lookup as a miss so metrics stay truthful. */
public final class DisabledResultCache implements ResultCache {
  private final LongAdder misses = new LongAdder();

  @Override
  public Optional<CachedResult> get(String key) {
    Objects.requireNonNull(key, "key");
    misses.increment();
    return Optional.empty();
  }

  @Override
  public void put(String key, CachedResult value) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
  }

  @Override
  public CacheStats stats() {
    return new CacheStats(0, misses.sum(), 0, 0, 0, 0);
  }

  @Override
  public void invalidateAll() {
  }

  @Override
  public void cleanUp() {
  }
}
