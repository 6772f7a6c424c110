package io.unimatte.service;

import io.unimatte.api.MatteApiTestAccess;
import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGTERM with a job's images still queued: the server exits by itself with every image done or
 * queued (its input on disk), and the restart finishes them all without being asked. None is lost.
 */
class SigtermTest {
  private static final int IMAGES = 150;
  @TempDir
  Path models;
  @TempDir
  Path outputs;

  @Test
  void sigtermLosesNoQueuedImage() throws Exception {
    TinyModel.write(models, "tiny");
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "io.unimatte.Main")
        .redirectErrorStream(true).redirectOutput(File.createTempFile("unimatte-sigterm", ".log"));
    pb.environment().put("PORT", Integer.toString(port));
    pb.environment().put("UNIMATTE_SERVER_HOST", "127.0.0.1");
    pb.environment().put("UNIMATTE_MODELS_DIR", models.toString());
    pb.environment().put("UNIMATTE_MODELS_DEFAULT", "tiny");
    pb.environment().put("UNIMATTE_MODELS_AUTO_IMPORT", "false");
    pb.environment().put("UNIMATTE_JOBS_OUTPUTS_DIR", outputs.toString());
    pb.environment().put("UNIMATTE_JOBS_MAX_IN_FLIGHT", "1");
    pb.environment().put("UNIMATTE_INFERENCE_WARMUP_RUNS", "1");
    Process server = pb.start();
    HttpClient http = HttpClient.newHttpClient();
    String id;
    try {
      URI health = URI.create("http://127.0.0.1:" + port + "/health");
      long deadline = System.currentTimeMillis() + 120_000;
      while (true) {
        try {
          if (http.send(HttpRequest.newBuilder(health).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
            break;
          }
        } catch (java.io.IOException notYet) {
          // still starting
        }
        assertTrue(System.currentTimeMillis() < deadline && server.isAlive(), "server did not start");
        Thread.sleep(200);
      }
      String boundary = "b" + UUID.randomUUID();
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      for (int i = 0; i < IMAGES; i++) {
        body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"s" + i
            + ".png\"\r\nContent-Type: image/png\r\n\r\n").getBytes());
        body.writeBytes(MatteApiTestAccess.png(100 + i));
        body.writeBytes("\r\n".getBytes());
      }
      body.writeBytes(("--" + boundary + "--\r\n").getBytes());
      HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/jobs"))
          .header("Content-Type", "multipart/form-data; boundary=" + boundary)
          .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(202, created.statusCode(), created.body());
      id = new JsonObject(created.body()).getString("id");
    } finally {
      server.destroy(); // SIGTERM
    }
    assertTrue(server.waitFor(120, TimeUnit.SECONDS), "the server exits by itself after SIGTERM");

    // on disk: every image done, or queued with its input kept; none failed for stopping
    JsonObject saved = new JsonObject(java.nio.file.Files.readString(outputs.resolve(id).resolve("job.json")));
    int queued = 0;
    for (Object o : saved.getJsonArray("items")) {
      JsonObject item = (JsonObject) o;
      if (!"done".equals(item.getString("stage"))) {
        assertEquals("queued", item.getString("stage"), item.encode());
        assertTrue(java.nio.file.Files.exists(outputs.resolve(id).resolve("inputs").resolve(item.getInteger("index")
            + ".input")), "its input is kept: " + item.encode());
        queued++;
      }
    }
    assertTrue(queued > 0, "some images were still queued when the signal came");

    try (TestServer again = TestServer.start(models, "tiny", null,
        cfg -> cfg.getJsonObject("jobs").put("outputsDir", outputs.toString()))) {
      long deadline = System.currentTimeMillis() + 120_000;
      JsonObject job;
      do {
        Thread.sleep(50);
        job = new JsonObject(new String(again.get("/api/v1/jobs/" + id).body()));
        assertTrue(System.currentTimeMillis() < deadline, "resumed job did not finish: " + job.encode());
      } while (job.getInteger("done") + job.getInteger("failed") < IMAGES);
      System.out.printf("after SIGTERM: %d done, %d queued of %d; after the restart %d done%n", IMAGES - queued, queued,
          IMAGES, job.getInteger("done"));
      assertEquals(IMAGES, job.getInteger("done"), "every image done after the restart: " + job.encode());
    }
  }
}
