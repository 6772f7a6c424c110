package io.unimatte.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The server's configuration: {@code config.json}, then environment variables, then CLI flags.
 *
 * <p>Every leaf of {@code config.json} can be overridden without editing the file:
 * {@code inference.maxBatchSize} is read from the environment as
 * {@code UNIMATTE_INFERENCE_MAX_BATCH_SIZE} and from the command line as
 * {@code --inference.maxBatchSize=8}. {@code PORT} overrides {@code server.port} (the
 * convention of most hosting platforms). An override of a key that {@code config.json} does
 * not have is rejected, so a typo fails at start instead of being silently ignored.
 */
public final class AppConfig {
  /** Prefix of environment variables that override configuration leaves. */
  public static final String ENV_PREFIX = "UNIMATTE_";
  /** Default location of the configuration file, relative to the working directory. */
  public static final String DEFAULT_FILE = "config.json";

  private final JsonObject json;

  private AppConfig(JsonObject json) {
    this.json = json;
  }

  /** Wraps an already-built configuration (tests). */
  public static AppConfig of(JsonObject json) {
    return new AppConfig(json.copy());
  }

  /**
   * Loads {@code file}, applies {@code env} and then {@code args} overrides.
   *
   * @throws IllegalArgumentException for unreadable files, unknown keys or ill-typed values
   */
  public static AppConfig load(Path file, Map<String, String> env, String[] args) {
    JsonObject json;
    try {
      json = new JsonObject(Files.readString(file));
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read configuration " + file + ": " + e.getMessage());
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("configuration " + file + " is not valid JSON: " + e.getMessage());
    }
    List<String> leaves = new ArrayList<>();
    collectLeaves(json, "", leaves);
    for (String path : leaves) {
      String value = env.get(envName(path));
      if (value != null) {
        set(json, path, value);
      }
    }
    if (env.get("PORT") != null) {
      set(json, "server.port", env.get("PORT"));
    }
    for (String arg : args) {
      if (!arg.startsWith("--") || !arg.contains("=")) {
        throw new IllegalArgumentException("unknown argument '" + arg + "' (expected --section.key=value)");
      }
      String path = arg.substring(2, arg.indexOf('='));
      if (!leaves.contains(path)) {
        throw new IllegalArgumentException("unknown configuration key '" + path + "'");
      }
      set(json, path, arg.substring(arg.indexOf('=') + 1));
    }
    return new AppConfig(json);
  }

  /** The environment variable that overrides {@code path}, e.g. {@code UNIMATTE_SERVER_PORT}. */
  public static String envName(String path) {
    StringBuilder sb = new StringBuilder(ENV_PREFIX);
    for (char c : path.toCharArray()) {
      if (c == '.') {
        sb.append('_');
      } else if (Character.isUpperCase(c)) {
        sb.append('_').append(c);
      } else {
        sb.append(Character.toUpperCase(c));
      }
    }
    return sb.toString().toUpperCase(Locale.ROOT);
  }

  private static void collectLeaves(JsonObject obj, String prefix, List<String> out) {
    for (String key : obj.fieldNames()) {
      Object v = obj.getValue(key);
      String path = prefix.isEmpty() ? key : prefix + "." + key;
      if (v instanceof JsonObject child) {
        collectLeaves(child, path, out);
      } else {
        out.add(path);
      }
    }
  }

  private static void set(JsonObject root, String path, String raw) {
    String[] parts = path.split("\\.");
    JsonObject obj = root;
    for (int i = 0; i < parts.length - 1; i++) {
      obj = obj.getJsonObject(parts[i]);
    }
    String key = parts[parts.length - 1];
    Object old = obj.getValue(key);
    try {
      if (old instanceof Integer || old instanceof Long) {
        obj.put(key, Long.parseLong(raw.trim()));
      } else if (old instanceof Number) {
        obj.put(key, Double.parseDouble(raw.trim()));
      } else if (old instanceof Boolean) {
        String b = raw.trim().toLowerCase(Locale.ROOT);
        if (!b.equals("true") && !b.equals("false")) {
          throw new NumberFormatException(raw);
        }
        obj.put(key, Boolean.parseBoolean(b));
      } else if (old instanceof JsonArray) {
        obj.put(key, new JsonArray(raw));
      } else {
        obj.put(key, raw);
      }
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("configuration key '" + path + "' expects a value like "
          + old + ", got '" + raw + "'");
    }
  }

  /** The whole configuration as JSON (a copy). */
  public JsonObject json() {
    return json.copy();
  }

  /** One section, e.g. {@code "inference"} (empty when absent). */
  public JsonObject section(String name) {
    JsonObject s = json.getJsonObject(name);
    return s == null ? new JsonObject() : s.copy();
  }

  /** A required integer leaf; fails fast when missing so no default hides in code. */
  public static int requireInt(JsonObject section, String key) {
    return requireNumber(section, key).intValue();
  }

  /** A required long leaf. */
  public static long requireLong(JsonObject section, String key) {
    return requireNumber(section, key).longValue();
  }

  /** A required number leaf, as a double. */
  public static double requireDouble(JsonObject section, String key) {
    return requireNumber(section, key).doubleValue();
  }

  private static Number requireNumber(JsonObject section, String key) {
    Number n = section.getNumber(key);
    if (n == null) {
      throw new IllegalArgumentException("configuration key '" + key + "' is missing");
    }
    return n;
  }

  /** A required boolean leaf. */
  public static boolean requireBoolean(JsonObject section, String key) {
    Object v = section.getValue(key);
    if (!(v instanceof Boolean b)) {
      throw new IllegalArgumentException("configuration key '" + key + "' must be true or false, got " + v);
    }
    return b;
  }

  /** A required string leaf. */
  public static String requireString(JsonObject section, String key) {
    String s = section.getString(key);
    if (s == null) {
      throw new IllegalArgumentException("configuration key '" + key + "' is missing");
    }
    return s;
  }
}
