package io.unimatte.api;

import io.unimatte.testing.TestPhotos;
import io.unimatte.imaging.output.OutputOptions;
import io.unimatte.jobs.JobInputs;
import io.unimatte.jobs.JobStore;
import io.unimatte.jobs.impl.StoredOptions;
import io.unimatte.testing.TestServer;
import io.unimatte.testing.WrappedSession;
import io.unimatte.testing.TinyModel;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The web UI in a real browser: runs {@code e2e/ui.test.mjs}, and {@code e2e/login.test.mjs} against
 * a server behind a key (node's test runner, playwright-core, headless Debian chromium), each
 * against a real server with the tiny model. Screenshots of each tab go
 * to {@code target/screenshots/}.
 *
 * <p>Needs {@code /usr/bin/chromium} and {@code e2e/node_modules} (.ci/run installs both). Where
 * they are missing the test is skipped with the reason, unless {@code UNIMATTE_E2E_REQUIRED=1}
 * (set by CI), which makes it fail instead.
 */
@Tag("browser")
class BrowserUiTest {
  private static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("CHROMIUM_PATH", "/usr/bin/chromium"));
  private static final Path DRIVER = Path.of("e2e/node_modules/playwright-core");
  private static final long TIMEOUT_MINUTES = 5;
  /** Each model call made this much slower, so a batch's stages are seen one by one (and a cancel finds work to stop). */
  private static final long SLOW_MODEL_MS = 250;

  @TempDir
  Path models;
  @TempDir
  Path outputs;

  private static void require(boolean ok, String what) {
    if (ok) {
      return;
    }
    if ("1".equals(System.getenv("UNIMATTE_E2E_REQUIRED"))) {
      fail(what + " is missing: install it (see .ci/run)");
    }
    Assumptions.abort(what + " is missing; browser tests skipped (cd e2e && npm install; apt-get install chromium)");
  }

  @Test
  void webUiPassesTheBrowserSuite() throws Exception {
    require(Files.isExecutable(CHROMIUM), CHROMIUM.toString());
    require(Files.isDirectory(DRIVER), DRIVER.toString());
    TinyModel.write(models, "tiny");
    TinyModel.write(models, "tiny2");
    String partial = partialJob(outputs);
    try (TestServer server = TestServer.startWrapped(models, "tiny",
        session -> new WrappedSession(session, () -> Thread.sleep(SLOW_MODEL_MS), true), cfg -> {
          cfg.getJsonObject("models").put("serve", new io.vertx.core.json.JsonArray().add("tiny").add("tiny2"));
          // one image per model call, two in the pipeline: the bar has stages to show between images
          cfg.getJsonObject("inference").put("maxBatchSize", 1);
          cfg.getJsonObject("jobs").put("outputsDir", outputs.toString()).put("maxInFlight", 2)
              .put("maxConcurrentJobsPerClient", 50);
        })) {
      runSuite("e2e/ui.test.mjs", server, Map.of("UNIMATTE_PARTIAL_JOB", partial));
    }
  }

  @Test
  void loginPagePassesTheBrowserSuite() throws Exception {
    require(Files.isExecutable(CHROMIUM), CHROMIUM.toString());
    require(Files.isDirectory(DRIVER), DRIVER.toString());
    TinyModel.write(models, "tiny");
    String key = "e2e-" + UUID.randomUUID();
    try (TestServer server = TestServer.start(models, "tiny", null, cfg -> cfg.getJsonObject("security")
        .put("apiKeys", new io.vertx.core.json.JsonArray().add(key)).put("protectUi", true))) {
      runSuite("e2e/login.test.mjs", server, Map.of("UNIMATTE_KEY", key));
    }
  }

  private static void runSuite(String suite, TestServer server, Map<String, String> env) throws Exception {
    Path log = Files.createTempFile("unimatte-e2e", ".log");
    ProcessBuilder pb = new ProcessBuilder("node", "--test", "--test-reporter=spec", suite)
        .redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("UNIMATTE_URL", "http://127.0.0.1:" + server.port());
    pb.environment().put("UNIMATTE_PHOTOS", TestPhotos.dir().toString());
    pb.environment().put("UNIMATTE_SCREENSHOTS", "target" + File.separator + "screenshots");
    pb.environment().put("CHROMIUM_PATH", CHROMIUM.toString());
    pb.environment().putAll(env);
    Process p = pb.start();
    if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      fail("browser suite did not finish in " + TIMEOUT_MINUTES + " minutes:\n" + Files.readString(log));
    }
    String out = Files.readString(log, StandardCharsets.UTF_8);
    System.out.println(out);
    assertEquals(0, p.exitValue(), "browser suite failed:\n" + out);
    assertEquals(0, server.blockedThreadWarnings(), "Vert.x reported a blocked event loop");
  }

  /**
   * A job whose two images failed for a passing reason (a failed model call) before this server
   * started, their inputs still stored: the history offers Retry for it.
   */
  private static String partialJob(Path outputs) throws Exception {
    JobStore store = JobStore.create(outputs);
    JobInputs in = store.stage(2);
    JsonArray items = new JsonArray();
    for (int i = 0; i < 2; i++) {
      String name = "retry" + i + ".png";
      in.add(name, MatteApiTestAccess.png(40 + i));
      items.add(new JsonObject().put("index", i).put("name", name).put("stage", "failed").put("code", "inference_failed")
          .put("message", "inference failed for a batch of 1").put("retryable", true));
    }
    store.commit(in, new JsonObject().put("id", in.jobId()).put("createdAt", System.currentTimeMillis())
        .put("status", "failed").put("output", "rgba").put("format", "png")
        .put("options", OutputOptions.DEFAULT.canonical()).put("outputOptions", StoredOptions.toJson(OutputOptions.DEFAULT))
        .put("withMatte", false).put("model", "tiny").put("source", "http").put("client", "test").put("total", 2)
        .put("done", 0).put("failed", 2).put("retryable", 2).put("items", items));
    return in.jobId();
  }
}
