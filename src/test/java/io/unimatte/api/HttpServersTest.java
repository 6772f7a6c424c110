package io.unimatte.api;

import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Clients that ask for {@code Upgrade: h2c}, as the JDK's {@code HttpClient} does by default, get whole
 * answers. With h2c on, Vert.x 5.0.7 stalled 3 to 7 of 40 such {@code GET /metrics} after the headers
 * (the reply, ~30 KB, is written at once); see {@link HttpServers}.
 */
class HttpServersTest {
  /** Requests, each on a new connection (the upgrade is asked for on a connection's first request). */
  private static final int REQUESTS = 60;
  private static final long ANSWER_SECONDS = 10;

  @TempDir
  Path models;

  @Test
  void jdkClientsAskingForTheUpgradeGetWholeAnswersInHttp11() throws Exception {
    TinyModel.write(models, "tiny");
    try (TestServer server = TestServer.start(models, "tiny", null, cfg -> { })) {
      for (int i = 0; i < REQUESTS; i++) {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
        CompletableFuture<HttpResponse<String>> answer = client.sendAsync(
            HttpRequest.newBuilder(server.uri("/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> r;
        try {
          r = answer.get(ANSWER_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException stalled) {
          answer.cancel(true);
          fail("request " + (i + 1) + " of " + REQUESTS + " had no whole answer after " + ANSWER_SECONDS + " s");
          return;
        }
        assertEquals(200, r.statusCode());
        assertEquals(HttpClient.Version.HTTP_1_1, r.version(), "the upgrade is ignored");
        assertTrue(r.body().length() > 16 * 1024 && r.body().contains("unimatte_inflight_bytes"),
            "the whole scrape, more than one HTTP/2 frame: " + r.body().length() + " characters");
      }
    }
  }
}
