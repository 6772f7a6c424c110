package io.unimatte.api;

import io.unimatte.config.AppConfig;
import io.unimatte.inference.MattingSession;
import io.unimatte.testing.TestServer;
import io.unimatte.testing.TestSessions;
import io.unimatte.testing.TinyModel;
import io.unimatte.testing.WrappedSession;
import io.unimatte.testing.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.io.ByteArrayInputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * WebSocket API 1.1 with a plain client over a real socket: typed fields, size limits, released
 * subscriptions, the job limit's retry hint, cancel and delete of running work, binary results.
 *
 * <p>Longer than most files on purpose: one test per WebSocket 1.1 point, over a real socket.
 */
class WebSocketApiTest {
  /** How long a test waits to be sure that nothing more arrives. */
  private static final long QUIET_MS = 700;

  @TempDir
  Path models;
  @TempDir
  Path outputs;

  private static String png(int w) throws Exception {
    return Base64.getEncoder().encodeToString(
        MatteApiTest.encode(new java.awt.image.BufferedImage(w, 20, java.awt.image.BufferedImage.TYPE_INT_RGB), "png"));
  }

  private static JsonObject submit(String ref, int images) throws Exception {
    JsonArray list = new JsonArray();
    for (int i = 0; i < images; i++) {
      list.add(new JsonObject().put("name", "p" + i + ".png").put("data", png(30 + i)));
    }
    return new JsonObject().put("type", "submit").put("ref", ref).put("images", list);
  }

  /** The tiny model, each session call waiting for one permit: the test says when an image may pass. */
  private Supplier<MattingSession> permitted(Semaphore permits) {
    Path dir = models.resolve("tiny");
    AppConfig cfg = AppConfig.of(new JsonObject().put("models", new JsonObject().put("dir", models.toString())
        .put("default", "tiny")).put("inference", new JsonObject().put("intraOpThreads", 1).put("interOpThreads", 1)
        .put("bf16", "auto")));
    Supplier<MattingSession> real = TestSessions.defaultModel(cfg);
    assertTrue(Files.isDirectory(dir));
    return () -> new WrappedSession(real.get(), () -> permits.tryAcquire(30, TimeUnit.SECONDS), true);
  }

  private TestServer server(Supplier<MattingSession> sessions, java.util.function.Consumer<JsonObject> tweak)
      throws Exception {
    return TestServer.start(models, "tiny", sessions, cfg -> {
      cfg.getJsonObject("jobs").put("outputsDir", outputs.toString()).put("maxInFlight", 1);
      cfg.getJsonObject("inference").put("maxBatchSize", 1).put("warmupRuns", 0);
      tweak.accept(cfg);
    });
  }

  private static void assertFieldError(WsClient ws, JsonObject msg, String field) throws Exception {
    ws.send(msg.put("ref", "bad-" + field));
    JsonObject e = ws.nextOf("error");
    assertEquals("invalid_parameter", e.getString("code"), e.encode());
    assertEquals(field, e.getString("field"), e.encode());
    assertTrue(e.getString("message").contains("'" + field + "'"), e.encode());
    assertEquals("bad-" + field, e.getString("ref"));
  }

  @Test
  void wronglyTypedFieldsAreAnsweredNamingTheField() throws Exception {
    TinyModel.write(models, "tiny");
    try (TestServer server = server(null, cfg -> { })) {
      WsClient ws = WsClient.connect(server);
      assertEquals("unimatte-ws/1.1", ws.hello.getString("api"));
      JsonObject good = submit("ok", 1);
      assertFieldError(ws, good.copy().put("results", "no"), "results");
      assertFieldError(ws, good.copy().put("results", 0), "results");
      assertFieldError(ws, good.copy().put("resultFrames", "xml"), "resultFrames");
      assertFieldError(ws, good.copy().put("output", new JsonObject()), "output");
      assertFieldError(ws, good.copy().put("images", "photo.png"), "images");
      assertFieldError(ws, good.copy().put("images", new JsonArray().add(5)), "images[0]");
      assertFieldError(ws, good.copy().put("images", new JsonArray().add(new JsonObject().put("name", "a").put("data", 7))),
          "images[0].data");
      assertFieldError(ws, good.copy().put("images", new JsonArray().add(new JsonObject().put("name", 3).put("data", png(30)))),
          "images[0].name");
      assertFieldError(ws, new JsonObject().put("type", "subscribe").put("jobId", 5), "jobId");
      assertFieldError(ws, new JsonObject().put("type", "retry").put("jobId", UUID.randomUUID().toString())
          .put("results", "yes"), "results");
      assertFieldError(ws, new JsonObject().put("type", "cancel").put("jobId", new JsonArray()), "jobId");
      assertFieldError(ws, new JsonObject().put("type", 1), "type");
      // the socket is still fine
      ws.send(new JsonObject().put("type", "ping").put("ref", "p"));
      assertEquals("pong", ws.nextOf("pong").getString("type"));
      ws.send(good);
      assertEquals("accepted", ws.next().getString("type"));
      assertEquals("done", ws.nextOf("job_done").getString("status"));
    }
  }

  @Test
  void aBase64StringOverJacksonsDefaultCapIsAccepted() throws Exception {
    TinyModel.write(models, "tiny");
    try (TestServer server = server(null, cfg -> { })) {
      WsClient ws = WsClient.connect(server);
      byte[] junk = new byte[15_200_000]; // base64: 20,266,668 characters, over Jackson's 20,000,000 default
      new Random(1).nextBytes(junk);
      String data = Base64.getEncoder().encodeToString(junk);
      assertTrue(data.length() > 20_000_000);
      ws.send(new JsonObject().put("type", "submit").put("ref", "big").put("images",
          new JsonArray().add(new JsonObject().put("name", "big.bin").put("data", data))));
      JsonObject accepted = ws.next(60);
      assertEquals("accepted", accepted.getString("type"), accepted.encode());
      JsonObject done = ws.nextOf("job_done");
      assertEquals("failed", done.getString("status"), "random bytes are no image, but the message was read");
    }
  }

  @Test
  void messagesOverTheLimitGetAnErrorOrA1009Close() throws Exception {
    TinyModel.write(models, "tiny");
    int limit = 64 * 1024;
    try (TestServer server = server(null, cfg -> cfg.getJsonObject("websocket").put("maxMessageBytes", limit))) {
      assertEquals(limit, WsClient.connect(server).hello.getInteger("maxMessageBytes"));

      // fragmented (the JDK client splits long messages): the frames add up past the limit; answered, the socket goes on
      WsClient ws = WsClient.connect(server);
      String chunk = "x".repeat(30_000);
      ws.ws.sendText("{\"type\":\"ping\",\"pad\":\"" + chunk, false).join();
      ws.ws.sendText(chunk, false).join();
      ws.ws.sendText(chunk + "\"}", true).join();
      JsonObject e = ws.nextOf("error");
      assertEquals("message_too_large", e.getString("code"));
      assertEquals(limit, e.getInteger("limit"));
      ws.send(new JsonObject().put("type", "ping").put("ref", "after"));
      assertEquals("after", ws.nextOf("pong").getString("ref"));

      // compressed (permessage-deflate): small on the wire, over the limit once inflated
      Vertx vertx = Vertx.vertx();
      try {
        // one frame for the whole message: it is the inflated frame that goes over the limit
        WebSocketClient deflating = vertx.createWebSocketClient(new WebSocketClientOptions()
            .setTryUsePerMessageCompression(true).setMaxFrameSize(16 * limit).setMaxMessageSize(16 * limit));
        BlockingQueue<JsonObject> got = new LinkedBlockingQueue<>();
        WebSocket socket = deflating.connect(server.port(), "127.0.0.1", "/api/v1/ws").toCompletionStage()
            .toCompletableFuture().get(10, TimeUnit.SECONDS);
        socket.textMessageHandler(t -> got.add(new JsonObject(t)));
        socket.writeTextMessage("{\"type\":\"ping\",\"pad\":\"" + " ".repeat(3 * limit) + "\"}");
        JsonObject m;
        do {
          m = got.poll(30, TimeUnit.SECONDS);
          assertNotNull(m, "an answer to the compressed message");
        } while ("hello".equals(m.getString("type")));
        assertEquals("message_too_large", m.getString("code"), m.encode());
        socket.writeTextMessage("{\"type\":\"ping\",\"ref\":\"z\"}");
        assertEquals("pong", got.poll(30, TimeUnit.SECONDS).getString("type"));
        socket.close();

        // one uncompressed frame over the limit: the frame decoder refuses it before any handler, and the
        // socket closes with 1009 and a reason
        WebSocketClient plain = vertx.createWebSocketClient(new WebSocketClientOptions()
            .setMaxFrameSize(16 * limit).setMaxMessageSize(16 * limit));
        WebSocket one = plain.connect(server.port(), "127.0.0.1", "/api/v1/ws").toCompletionStage()
            .toCompletableFuture().get(10, TimeUnit.SECONDS);
        CompletableFuture<String> closed = new CompletableFuture<>();
        one.closeHandler(v -> closed.complete(one.closeStatusCode() + " " + one.closeReason()));
        one.writeTextMessage("{\"type\":\"ping\",\"pad\":\"" + "y".repeat(2 * limit) + "\"}");
        String status = closed.get(30, TimeUnit.SECONDS);
        assertTrue(status.startsWith("1009 message_too_large"), status);
      } finally {
        vertx.close();
      }
    }
  }

  @Test
  void finishedJobsReleaseTheirSubscriptions() throws Exception {
    TinyModel.write(models, "tiny");
    try (TestServer server = server(null, cfg -> cfg.getJsonObject("websocket").put("maxSubscriptions", 2))) {
      WsClient ws = WsClient.connect(server);
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        ws.send(submit("s" + i, 1));
        JsonObject accepted = ws.next();
        assertEquals("accepted", accepted.getString("type"), "job " + i + ": " + accepted.encode());
        ids.add(accepted.getJsonObject("job").getString("id"));
        assertEquals("done", ws.nextOf("job_done").getString("status"));
      }
      // a finished job: its final state, job_done too, and nothing held
      for (String id : ids) {
        ws.send(new JsonObject().put("type", "subscribe").put("jobId", id).put("ref", id));
        JsonObject sub = ws.next();
        assertEquals("subscribed", sub.getString("type"), sub.encode());
        assertEquals("done", sub.getJsonObject("job").getString("status"));
        JsonObject done = ws.next();
        assertEquals("job_done", done.getString("type"));
        assertEquals(id, done.getString("jobId"));
      }
    }
  }

  @Test
  void tooManyJobsSaysWhenToRetryAndSocketJobsInThePipelineDoNotCount() throws Exception {
    TinyModel.write(models, "tiny");
    Semaphore permits = new Semaphore(0);
    try (TestServer server = server(permitted(permits), cfg ->
        cfg.getJsonObject("jobs").put("maxConcurrentJobsPerClient", 1))) {
      WsClient a = WsClient.connect(server);
      a.send(submit("a", 1));
      assertEquals("accepted", a.next().getString("type"));
      // a's only image is in the pipeline: nothing of it waits, so it no longer counts
      WsClient b = WsClient.connect(server);
      b.send(submit("b", 1));
      JsonObject accepted = b.next();
      assertEquals("accepted", accepted.getString("type"), accepted.encode());
      WsClient c = WsClient.connect(server);
      c.send(submit("c", 1));
      JsonObject refused = c.next();
      assertEquals("too_many_jobs", refused.getString("code"), refused.encode());
      assertTrue(refused.getInteger("retryAfter") >= 1, refused.encode());
      HttpResponse<byte[]> http = server.postMultipart("/api/v1/jobs", "image", "d.png", "image/png",
          Base64.getDecoder().decode(png(33)));
      assertEquals(429, http.statusCode());
      assertTrue(Integer.parseInt(http.headers().firstValue("Retry-After").orElseThrow()) >= 1);
      permits.release(100);
      assertEquals("done", a.nextOf("job_done").getString("status"));
      assertEquals("done", b.nextOf("job_done").getString("status"));
    }
  }

  @Test
  void deleteStopsTheRunningJobAndWritesNothingMore() throws Exception {
    TinyModel.write(models, "tiny");
    Semaphore permits = new Semaphore(0);
    try (TestServer server = server(permitted(permits), cfg -> { })) {
      WsClient ws = WsClient.connect(server);
      ws.send(submit("d", 3));
      String id = ws.next().getJsonObject("job").getString("id");
      JsonObject p;
      do {
        p = ws.nextOf("progress");
      } while (!"inferring".equals(p.getString("stage")));
      HttpResponse<byte[]> deleted = HttpClient.newHttpClient().send(HttpRequest.newBuilder(server.uri("/api/v1/jobs/" + id))
          .DELETE().build(), HttpResponse.BodyHandlers.ofByteArray());
      assertEquals(204, deleted.statusCode());
      JsonObject m;
      do {
        m = ws.next();
        assertNotEquals("item", m.getString("type"), "no item after the delete: " + m.encode());
      } while (!"job_deleted".equals(m.getString("type")));
      assertEquals(id, m.getString("jobId"));
      permits.release(100); // the image in the model comes back now: it must be dropped
      assertNull(ws.poll(QUIET_MS * 2), "nothing after job_deleted");
      assertEquals(404, server.get("/api/v1/jobs/" + id).statusCode());
      assertFalse(Files.exists(outputs.resolve(id)), "no files written for the deleted job");
      // the server goes on with other work
      ws.send(submit("e", 1));
      assertEquals("accepted", ws.next().getString("type"));
      assertEquals("done", ws.nextOf("job_done").getString("status"));
    }
  }

  @Test
  void cancelStopsUnfinishedImagesAndKeepsFinishedOnes() throws Exception {
    TinyModel.write(models, "tiny");
    Semaphore permits = new Semaphore(1);
    try (TestServer server = server(permitted(permits), cfg -> { })) {
      WsClient ws = WsClient.connect(server);
      ws.send(submit("c", 4));
      String id = ws.next().getJsonObject("job").getString("id");
      assertEquals(0, ws.nextOf("result").getInteger("index"));
      JsonObject p;
      do {
        p = ws.nextOf("progress");
      } while (!(p.getInteger("index") == 1 && "inferring".equals(p.getString("stage"))));
      ws.send(new JsonObject().put("type", "cancel").put("jobId", id).put("ref", "stop"));
      JsonObject cancelled = ws.nextOf("cancelled");
      assertEquals("stop", cancelled.getString("ref"));
      assertEquals(3, cancelled.getInteger("cancelled"));
      List<Integer> stopped = new ArrayList<>();
      JsonObject m;
      do {
        m = ws.next();
        if ("item".equals(m.getString("type"))) {
          assertEquals("cancelled", m.getJsonObject("item").getString("code"));
          stopped.add(m.getJsonObject("item").getInteger("index"));
        }
      } while (!"job_done".equals(m.getString("type")));
      assertEquals(List.of(1, 2, 3), stopped);
      assertEquals("partial", m.getString("status"));
      assertEquals(1, m.getInteger("done"));
      assertEquals(3, m.getInteger("failed"));
      permits.release(100);
      assertNull(ws.poll(QUIET_MS * 2), "nothing after job_done: the image in the model is dropped");

      JsonObject job = new JsonObject(new String(server.get("/api/v1/jobs/" + id).body()));
      assertEquals("partial", job.getString("status"));
      assertNotNull(job.getLong("cancelledAt"));
      assertEquals("done", job.getJsonArray("items").getJsonObject(0).getString("stage"));
      assertEquals(200, server.get("/api/v1/jobs/" + id + "/items/0").statusCode());
      HttpResponse<byte[]> item1 = server.get("/api/v1/jobs/" + id + "/items/1");
      assertEquals(409, item1.statusCode());
      assertTrue(new String(item1.body()).contains("cancelled"));
      try (var files = Files.list(outputs.resolve(id).resolve("items"))) {
        assertEquals(List.of("0.png"), files.map(f -> f.getFileName().toString()).toList());
      }
      // over HTTP: nothing left to stop, the job stays
      HttpResponse<byte[]> again = HttpClient.newHttpClient().send(HttpRequest.newBuilder(server.uri("/api/v1/jobs/" + id
          + "/cancel")).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofByteArray());
      assertEquals(200, again.statusCode());
      assertEquals(0, new JsonObject(new String(again.body())).getInteger("cancelled"));
      JsonObject history = new JsonObject(new String(server.get("/api/v1/jobs").body()));
      assertTrue(history.getJsonArray("jobs").getJsonObject(0).getBoolean("cancelled"));
    }
  }

  /** Runs docs/examples/WsClient.java (source-file mode) in {@code dir}; returns its exit status and output. */
  private static JsonObject runExample(TestServer server, Path dir, String... photos) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
        Path.of("docs/examples/WsClient.java").toAbsolutePath().toString(), "ws://127.0.0.1:" + server.port() + "/api/v1/ws"));
    cmd.addAll(List.of(photos));
    Path log = dir.resolve("client.log");
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertTrue(p.waitFor(90, TimeUnit.SECONDS), "the example client ends by itself");
    return new JsonObject().put("status", p.exitValue()).put("output", Files.readString(log));
  }

  @Test
  void theExampleClientWritesTheCutoutsAndStopsOnErrors() throws Exception {
    TinyModel.write(models, "tiny");
    try (TestServer server = server(null, cfg -> cfg.getJsonObject("jobs").put("maxItemsPerJob", 2))) {
      Path dir = Files.createTempDirectory("unimatte-example");
      Files.write(dir.resolve("a.png"), Base64.getDecoder().decode(png(31)));
      Files.write(dir.resolve("b.png"), Base64.getDecoder().decode(png(32)));
      JsonObject ok = runExample(server, dir, "a.png", "b.png");
      assertEquals(0, ok.getInteger("status"), ok.getString("output"));
      assertEquals(31, ImageIO.read(dir.resolve("a.cutout.png").toFile()).getWidth());
      assertEquals(32, ImageIO.read(dir.resolve("b.cutout.png").toFile()).getWidth());
      // three images for a server that takes two: an error, and the client says so and ends
      JsonObject refused = runExample(server, dir, "a.png", "b.png", "a.png");
      assertEquals(1, refused.getInteger("status"), refused.getString("output"));
      assertTrue(refused.getString("output").contains("too_many_items"), refused.getString("output"));
    }
  }

  @Test
  void resultsComeAsBinaryFramesWhenAsked() throws Exception {
    TinyModel.write(models, "tiny");
    try (TestServer server = server(null, cfg -> { })) {
      WsClient ws = WsClient.connect(server);
      ws.send(submit("bin", 2).put("resultFrames", "binary"));
      String id = ws.next().getJsonObject("job").getString("id");
      int results = 0;
      JsonObject m;
      do {
        m = ws.next();
        if ("result".equals(m.getString("type"))) {
          assertEquals("binary", m.getString("frame"));
          assertNull(m.getString("data"));
          JsonObject frame = ws.next();
          assertEquals("binary", frame.getString("type"), "the binary frame follows its header at once");
          ByteBuffer bytes = ByteBuffer.wrap(frame.getBinary("data"));
          assertEquals(UUID.fromString(id), new UUID(bytes.getLong(), bytes.getLong()));
          assertEquals(m.getInteger("index").intValue(), bytes.getInt());
          byte[] image = Arrays.copyOfRange(bytes.array(), WebSocketApi.BINARY_HEADER_BYTES, bytes.capacity());
          assertEquals(m.getInteger("bytes").intValue(), image.length);
          assertEquals(30 + m.getInteger("index"), ImageIO.read(new ByteArrayInputStream(image)).getWidth());
          results++;
        }
      } while (!"job_done".equals(m.getString("type")));
      assertEquals(2, results);
    }
  }
}
