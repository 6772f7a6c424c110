package io.unimatte.api;

import io.unimatte.UnimatteServer;
import io.unimatte.config.AppConfig;
import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Out of the box the server listens on loopback only; containers listen on every interface by
 * their own setting; listening beyond loopback without keys is said in one warning line.
 */
class SafeDefaultsTest {
  @TempDir
  Path models;

  private static JsonObject config(String host, String... keys) {
    JsonObject json = AppConfig.load(Path.of("config.json"), Map.of(), new String[0]).json();
    json.getJsonObject("server").put("host", host);
    json.getJsonObject("security").put("apiKeys", new JsonArray(List.of((Object[]) keys)));
    return json;
  }

  @Test
  void loopbackByDefaultAndContainersOptIn() throws Exception {
    assertEquals("127.0.0.1", AppConfig.load(Path.of("config.json"), Map.of(), new String[0]).section("server")
        .getString("host"));
    for (String dockerfile : new String[] {"deploy/Dockerfile", "deploy/Dockerfile.gpu"}) {
      assertTrue(Files.readString(Path.of(dockerfile)).contains("ENV UNIMATTE_SERVER_HOST=0.0.0.0"), dockerfile);
    }
    assertEquals("0.0.0.0", AppConfig.load(Path.of("config.json"), Map.of("UNIMATTE_SERVER_HOST", "0.0.0.0"),
        new String[0]).section("server").getString("host"), "the containers' setting reaches server.host");
  }

  @Test
  void warnsOnlyWhenReachableFromOtherMachinesWithoutKeys() {
    for (String host : new String[] {"0.0.0.0", "::", "10.0.0.5", "192.168.1.20", "my-host.lan"}) {
      String warning = BindCheck.insecureBindWarning(config(host)).orElseThrow(() -> new AssertionError(host));
      assertTrue(warning.startsWith("event=insecure_bind host=" + host + " "), warning);
    }
    for (String host : new String[] {"127.0.0.1", "127.0.1.1", "::1", "localhost"}) {
      assertTrue(BindCheck.insecureBindWarning(config(host)).isEmpty(), host);
    }
    assertTrue(BindCheck.insecureBindWarning(config("0.0.0.0", "k1")).isEmpty(), "keys configured");
    JsonObject adminOnly = config("0.0.0.0");
    adminOnly.getJsonObject("security").put("adminKeys", new JsonArray().add("admin-key"));
    assertTrue(BindCheck.insecureBindWarning(adminOnly).isEmpty(), "admin keys are keys too");
  }

  @Test
  void aServerOnEveryInterfaceWithoutKeysLogsOneWarningLine() throws Exception {
    TinyModel.write(models, "tiny");
    List<String> lines = new CopyOnWriteArrayList<>();
    Handler capture = new Handler() {
      @Override
      public void publish(LogRecord r) {
        if (r.getMessage() != null && r.getMessage().startsWith("event=insecure_bind")) {
          lines.add(r.getLevel() + " " + r.getMessage());
        }
      }

      @Override
      public void flush() {
      }

      @Override
      public void close() {
      }
    };
    Logger log = Logger.getLogger(UnimatteServer.class.getName());
    log.addHandler(capture);
    try (TestServer s = TestServer.start(models, "tiny", null,
        cfg -> cfg.getJsonObject("server").put("host", "0.0.0.0").put("httpInstances", 2))) {
      assertEquals(200, s.get("/health").statusCode());
      assertEquals(1, lines.size(), "one line however many HTTP instances: " + lines);
      assertTrue(lines.get(0).startsWith("WARNING event=insecure_bind host=0.0.0.0 port=" + s.port()), lines.get(0));
    } finally {
      log.removeHandler(capture);
    }
  }
}
