package io.unimatte.api;

import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The blocked-event-loop check the API tests rely on does see a blocked loop. */
class BlockedThreadWatchTest {
  @TempDir
  Path models;

  @Test
  void aDeliberatelyBlockedEventLoopIsCounted() throws Exception {
    TinyModel.write(models, "tiny");
    try (TestServer server = TestServer.start(models, "tiny", null, cfg -> { })) {
      server.vertx().runOnContext(v -> {
        long until = System.currentTimeMillis() + 3_500; // Vert.x warns after 2 s, checking every second
        while (System.currentTimeMillis() < until) {
          Thread.onSpinWait();
        }
      });
      long deadline = System.currentTimeMillis() + 10_000;
      while (server.blockedThreadWarnings() == 0 && System.currentTimeMillis() < deadline) {
        Thread.sleep(100);
      }
      assertTrue(server.blockedThreadWarnings() > 0);
    }
  }
}
