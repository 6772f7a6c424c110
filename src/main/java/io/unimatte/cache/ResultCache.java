package io.unimatte.cache;

import com.github.benmanes.caffeine.cache.Ticker;
import io.unimatte.cache.impl.CacheConfig;
import io.unimatte.cache.impl.CaffeineResultCache;
import io.unimatte.cache.impl.ContentKey;
import io.unimatte.cache.impl.DisabledResultCache;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * Finished matting results by content: the same image bytes with the same model and the same
 * output options give the same result bytes, so a repeat is answered without touching the queue.
 *
 * <p>Caveats, stated plainly:
 * <ul>
 *   <li>The bound is in <em>weighted</em> bytes: result payload plus a fixed per-entry overhead
 *       ({@link CachedResult#OVERHEAD_BYTES}). It approximates, and does not measure, the heap used.</li>
 *   <li>Eviction (by size and by expiry) is asynchronous: it runs on Caffeine's default executor
 *       ({@code ForkJoinPool.commonPool()}) unless an executor is injected, so the weighted size can
 *       exceed the bound for a moment after a put. {@link #cleanUp()} runs pending work now.</li>
 *   <li>An entry whose weight alone exceeds {@code maxBytes} is never stored.</li>
 *   <li>Concurrent misses for the same key are not coalesced: each computes, the last put wins.</li>
 *   <li>Result bytes are shared, not copied: callers must not mutate {@link CachedResult#bytes()}.</li>
 * </ul>
 *
 * <p>Implementations are thread-safe. Build one with {@link #builder()} or {@link #fromConfig}.
 */
public interface ResultCache {

  /**
   * A cached answer: what the matting pipeline produced for one image.
   *
   * @param bytes       the encoded result (shared, never copied; do not mutate)
   * @param matteBytes  the grey matte PNG that was asked for beside it, or null (shared, never copied)
   * @param contentType its media type, e.g. {@code image/png}
   * @param width       result width in pixels
   * @param height      result height in pixels
   * @param model       the model that produced it
   * @param headers     extra facts to replay, e.g. response headers (copied, unmodifiable)
   */
  record CachedResult(byte[] bytes, byte[] matteBytes, String contentType, int width, int height, String model,
                      Map<String, String> headers) {
    /**
     * Rough heap cost of one entry beyond its payload (key string, headers, record, cache node),
     * so that many tiny results still count against the bound.
     */
    public static final int OVERHEAD_BYTES = 512;

    /** A result without a matte beside it. */
    public CachedResult(byte[] bytes, String contentType, int width, int height, String model,
                        Map<String, String> headers) {
      this(bytes, null, contentType, width, height, model, headers);
    }

    /** Validates and takes an unmodifiable copy of {@code headers} (null means none). */
    public CachedResult {
      Objects.requireNonNull(bytes, "bytes");
      Objects.requireNonNull(contentType, "contentType");
      Objects.requireNonNull(model, "model");
      headers = headers == null ? Map.of() : Map.copyOf(headers);
    }

    /** Weight against {@code maxBytes}: the payload bytes (result and matte) plus {@code OVERHEAD_BYTES}. */
    public long weight() {
      return (long) bytes.length + (matteBytes == null ? 0 : matteBytes.length) + OVERHEAD_BYTES;
    }

    /** Summarises the payload instead of printing an array identity. */
    @Override
    public String toString() {
      return "CachedResult[" + bytes.length + " bytes, " + (matteBytes == null ? "" : "matte " + matteBytes.length
          + " bytes, ") + contentType + ", " + width + "x" + height
          + ", model=" + model + ", headers=" + headers + "]";
    }
  }

  /**
   * A snapshot of the counters and the size.
   *
   * @param hits          lookups answered from the cache
   * @param misses        lookups the cache could not answer (every lookup, when disabled)
   * @param evictions     entries removed by the size bound or by expiry
   * @param entries       entries held (approximate until {@link #cleanUp()} has run)
   * @param weightedBytes weighted bytes held, see {@link CachedResult#weight()}
   * @param maxBytes      the bound on weighted bytes (0 when disabled: it holds nothing)
   */
  @SuppressWarnings("deprecation")
  record CacheStats(long hits, long misses, long evictions, long entries, long weightedBytes, long maxBytes) {
  }

  /**
   * The cache key of one request: hex SHA-256 over the input bytes, then the model name, then the
   * canonical options string. Every part is length-prefixed, so ("ab", "c") and ("a", "bc") differ.
   *
   * @return 64 lowercase hex characters, stable across calls and processes
   */
  static String key(byte[] input, String model, String canonicalOptions) {
    return ContentKey.of(input, model, canonicalOptions);
  }

  /** The cached result under {@code key}, if present and not expired; counts a hit or a miss. */
  Optional<CachedResult> get(String key);

  /** Stores {@code value} under {@code key}, unless the cache is disabled or the value alone exceeds the bound. */
  void put(String key, CachedResult value);

  /** Current counters and size. */
  CacheStats stats();

  /** Drops every entry (counters are kept). */
  void invalidateAll();

  /** Runs pending eviction and expiry work now, on the calling thread. */
  void cleanUp();

  /** A builder; {@code maxBytes} and {@code expireAfterAccess} are required unless disabled. */
  static Builder builder() {
    return new Builder();
  }

  /**
   * Builds from the {@code cache} configuration section.
   *
   * @param cacheSection {@code enabled} (boolean), {@code maxBytes} (long &gt; 0) and
   *                     {@code expireAfterAccessSeconds} (long &gt; 0), all required
   * @throws IllegalArgumentException naming the key that is missing, ill-typed or out of range
   */
  static ResultCache fromConfig(JsonObject cacheSection) {
    return CacheConfig.read(cacheSection);
  }

  /**
   * Collects the knobs; each setter fails fast with an {@link IllegalArgumentException} naming
   * the knob, and {@link #build()} names any required knob left unset.
   */
  final class Builder {
    private boolean enabled = true;
    private long maxBytes;
    private Duration expireAfterAccess;
    private Ticker ticker = Ticker.systemTicker();
    private Executor executor;

    private Builder() {
    }

    /** {@code false} gives a no-op cache whose {@code get} is always empty and counts a miss. */
    public Builder enabled(boolean enabled) {
      this.enabled = enabled;
      return this;
    }

    /** Bound on the summed {@link CachedResult#weight()} of the entries; must be &gt; 0. */
    public Builder maxBytes(long maxBytes) {
      if (maxBytes <= 0) {
        throw new IllegalArgumentException("cache maxBytes must be > 0, got " + maxBytes);
      }
      this.maxBytes = maxBytes;
      return this;
    }

    /** An entry not read nor written for this long expires; must be &gt; 0. */
    public Builder expireAfterAccess(Duration expireAfterAccess) {
      if (expireAfterAccess == null || expireAfterAccess.isZero() || expireAfterAccess.isNegative()) {
        throw new IllegalArgumentException("cache expireAfterAccess must be > 0, got " + expireAfterAccess);
      }
      this.expireAfterAccess = expireAfterAccess;
      return this;
    }

    /** The time source for expiry (tests inject a fake one); defaults to the system ticker. */
    public Builder ticker(Ticker ticker) {
      if (ticker == null) {
        throw new IllegalArgumentException("cache ticker must not be null");
      }
      this.ticker = ticker;
      return this;
    }

    /**
     * Where eviction and removal work runs; defaults to Caffeine's ({@code ForkJoinPool.commonPool()}).
     * Tests inject {@code Runnable::run} so that work happens on the calling thread.
     */
    public Builder executor(Executor executor) {
      if (executor == null) {
        throw new IllegalArgumentException("cache executor must not be null");
      }
      this.executor = executor;
      return this;
    }

    /** The configured cache: Caffeine-backed when enabled, a no-op otherwise. */
    public ResultCache build() {
      if (!enabled) {
        return new DisabledResultCache();
      }
      if (maxBytes <= 0) {
        throw new IllegalArgumentException("cache maxBytes is required");
      }
      if (expireAfterAccess == null) {
        throw new IllegalArgumentException("cache expireAfterAccess is required");
      }
      return new CaffeineResultCache(maxBytes, expireAfterAccess, ticker, executor);
    }
  }
}
