package io.unimatte.cache;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * A result cache's counters as Micrometer meters: {@code unimatte_cache_hits_total},
 * {@code unimatte_cache_misses_total}, {@code unimatte_cache_evictions_total}, and the gauges
 * {@code unimatte_cache_entries}, {@code unimatte_cache_bytes} (weighted bytes held) and
 * {@code unimatte_cache_max_bytes}. Read from {@link ResultCache#stats()} at each scrape.
 */
public final class CacheMeters implements MeterBinder {
  private final ResultCache cache;

  /** @param cache the cache to publish; the meters hold it weakly, as Micrometer does */
  public CacheMeters(ResultCache cache) {
    this.cache = cache;
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    FunctionCounter.builder("unimatte.cache.hits", cache, c -> c.stats().hits())
        .description("answers served from the result cache").register(registry);
    FunctionCounter.builder("unimatte.cache.misses", cache, c -> c.stats().misses())
        .description("lookups the result cache could not answer").register(registry);
    FunctionCounter.builder("unimatte.cache.evictions", cache, c -> c.stats().evictions())
        .description("entries removed by the size bound or by expiry").register(registry);
    Gauge.builder("unimatte.cache.entries", cache, c -> c.stats().entries())
        .description("entries held (approximate)").register(registry);
    Gauge.builder("unimatte.cache.bytes", cache, c -> c.stats().weightedBytes())
        .description("weighted bytes held by the result cache").register(registry);
    Gauge.builder("unimatte.cache.max.bytes", cache, c -> c.stats().maxBytes())
        .description("bound on the weighted bytes (0 when the cache is off)").register(registry);
  }
}
