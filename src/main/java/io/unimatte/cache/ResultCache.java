package io.unimatte.cache;

import io.unimatte.cache.impl.CaffeineResultCache;
import io.unimatte.config.AppConfig;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * Finished results by content: the same image bytes with the same model and options give the
 * same answer, served without touching the queue.
 *
 * <p>Caveats: the bound is in bytes of result payload plus a fixed per-entry overhead, an
 * approximation of the heap used; eviction runs asynchronously on the configured executor
 * unless one that runs tasks at once is injected; an entry larger than the whole bound is never
 * stored.
 */
public interface ResultCache {

  /** A cached answer. */
  record CachedResult(byte[] bytes, String contentType, int width, int height, String model,
                      Map<String, String> headers) {
  }

  /** Hit/miss counters and size. */
  record Stats(long hits, long misses, long evictions, long entries, long weightedBytes, long maxBytes) {
  }

  /** Hex SHA-256 over the input bytes, then the model and the options (length-prefixed). */
  static String key(byte[] input, String model, String canonicalOptions) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(input);
      for (String s : new String[] {model, canonicalOptions}) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        md.update(new byte[] {(byte) (b.length >>> 24), (byte) (b.length >>> 16), (byte) (b.length >>> 8), (byte) b.length});
        md.update(b);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  Optional<CachedResult> get(String key);

  void put(String key, CachedResult value);

  Stats stats();

  void invalidateAll();

  static Builder builder() {
    return new Builder();
  }

  /** Reads the {@code cache} section: {@code enabled}, {@code maxBytes}, {@code expireAfterAccessSeconds}. */
  static ResultCache fromConfig(JsonObject cache) {
    Boolean enabled = cache.getBoolean("enabled");
    if (enabled == null) {
      throw new IllegalArgumentException("configuration key 'enabled' is missing");
    }
    return builder().enabled(enabled).maxBytes(AppConfig.requireLong(cache, "maxBytes"))
        .expireAfterAccess(Duration.ofSeconds(AppConfig.requireLong(cache, "expireAfterAccessSeconds"))).build();
  }

  /** Fails fast on bad configuration. */
  final class Builder {
    private boolean enabled = true;
    private long maxBytes = -1;
    private Duration expireAfterAccess;
    private com.github.benmanes.caffeine.cache.Ticker ticker = com.github.benmanes.caffeine.cache.Ticker.systemTicker();
    private Executor executor;

    private Builder() {
    }

    public Builder enabled(boolean enabled) {
      this.enabled = enabled;
      return this;
    }

    public Builder maxBytes(long maxBytes) {
      if (maxBytes <= 0) {
        throw new IllegalArgumentException("cache maxBytes must be > 0, got " + maxBytes);
      }
      this.maxBytes = maxBytes;
      return this;
    }

    public Builder expireAfterAccess(Duration d) {
      if (d == null || d.isZero() || d.isNegative()) {
        throw new IllegalArgumentException("cache expireAfterAccess must be > 0, got " + d);
      }
      this.expireAfterAccess = d;
      return this;
    }

    public Builder ticker(com.github.benmanes.caffeine.cache.Ticker ticker) {
      this.ticker = ticker;
      return this;
    }

    public Builder executor(Executor executor) {
      this.executor = executor;
      return this;
    }

    public ResultCache build() {
      if (maxBytes <= 0 || expireAfterAccess == null) {
        throw new IllegalArgumentException("cache needs maxBytes and expireAfterAccess");
      }
      return new CaffeineResultCache(enabled, maxBytes, expireAfterAccess, ticker, executor);
    }
  }
}
