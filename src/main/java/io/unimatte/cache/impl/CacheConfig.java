package io.unimatte.cache.impl;

import io.unimatte.cache.ResultCache;
import io.vertx.core.json.JsonObject;

import java.time.Duration;

/** Reads the {@code cache} configuration section for {@link ResultCache#fromConfig}. */
public final class CacheConfig {
  /** Name of the section, used in error messages so the key reads as it does in config.json. */
  public static final String SECTION = "cache";
  public static final String ENABLED = "enabled";
  public static final String MAX_BYTES = "maxBytes";
  public static final String EXPIRE_AFTER_ACCESS_SECONDS = "expireAfterAccessSeconds";

  private CacheConfig() {
  }

  /** All three keys are required: no default hides in code. */
  public static ResultCache read(JsonObject section) {
    if (section == null) {
      throw new IllegalArgumentException("configuration section '" + SECTION + "' is missing");
    }
    boolean enabled = requireBoolean(section, ENABLED);
    long maxBytes = requirePositiveLong(section, MAX_BYTES);
    long seconds = requirePositiveLong(section, EXPIRE_AFTER_ACCESS_SECONDS);
    // Validated even when disabled: switching the cache on later must not reveal a bad value.
    return ResultCache.builder()
        .enabled(enabled)
        .maxBytes(maxBytes)
        .expireAfterAccess(Duration.ofSeconds(seconds))
        .build();
  }

  private static boolean requireBoolean(JsonObject section, String key) {
    Object v = require(section, key);
    if (!(v instanceof Boolean b)) {
      throw new IllegalArgumentException("configuration key '" + path(key) + "' must be true or false, got " + v);
    }
    return b;
  }

  private static long requirePositiveLong(JsonObject section, String key) {
    Object v = require(section, key);
    // Integer or Long only: a fraction (1.5) or an out-of-range BigInteger would be silently truncated.
    if (!(v instanceof Integer || v instanceof Long)) {
      throw new IllegalArgumentException("configuration key '" + path(key) + "' must be an integer, got " + v);
    }
    long n = ((Number) v).longValue();
    if (n <= 0) {
      throw new IllegalArgumentException("configuration key '" + path(key) + "' must be > 0, got " + n);
    }
    return n;
  }

  private static Object require(JsonObject section, String key) {
    Object v = section.getValue(key);
    if (v == null) {
      throw new IllegalArgumentException("configuration key '" + path(key) + "' is missing");
    }
    return v;
  }

  private static String path(String key) {
    return SECTION + "." + key;
  }
}
