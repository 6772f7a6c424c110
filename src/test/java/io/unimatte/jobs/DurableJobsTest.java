package io.unimatte.jobs;

import io.unimatte.testing.Multiparts;
import io.unimatte.testing.ServerProcess;
import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Nothing accepted is ever lost: a server in its own JVM is killed (SIGKILL, or SIGTERM) in the
 * middle of a 10-image job and started again on the same {@code outputs/}; every image ends
 * {@code done}, with the result a run without the crash gives (alpha within 1/255). A kill while a
 * zip upload is being unpacked leaves either no job or one that resumes completely.
 */
class DurableJobsTest {
  private static final int IMAGES = 10;
  /** Per session call: a job of 10 images (2 per batch) takes about 3 s, so the kill lands mid-job. */
  private static final long DELAY_MS = 500;
  /** Two images in flight and per batch: a SIGTERM finds a batch inferring. */
  private static final String[] PACING = {"--jobs.maxInFlight=2", "--inference.maxBatchSize=2"};
  private static final int ZIP_IMAGES = 300;
  private static final long JOB_TIMEOUT_MS = 120_000;
  private static final int MAX_ALPHA_DIFF = 1;
  private static final long INPUTS_GONE_MS = 5_000;

  @TempDir
  Path tmp;
  private Path models;
  private Path outputs;

  @BeforeEach
  void model() throws Exception {
    models = tmp.resolve("models");
    outputs = tmp.resolve("outputs");
    TinyModel.write(models, "tiny");
  }

  private Path log(String name) {
    return Path.of("target", "durable-jobs-logs", name + ".log");
  }

  /** Distinct photos with soft gradients, so the tiny model's alpha has soft edges. */
  private static List<byte[]> photos(int n, int width, int height) throws Exception {
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      BufferedImage img = new BufferedImage(width + i, height, BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < height; y++) {
        for (int x = 0; x < img.getWidth(); x++) {
          int v = (x * 255 / img.getWidth() + y * 2 + i * 13) % 256;
          img.setRGB(x, y, new Color(v, (v + i * 7) % 256, 255 - v).getRGB());
        }
      }
      Graphics2D g = img.createGraphics();
      g.setColor(Color.WHITE);
      g.fillOval(10 + i, 10, width / 3, height / 3);
      g.dispose();
      ByteArrayOutputStream png = new ByteArrayOutputStream();
      ImageIO.write(img, "png", png);
      out.add(png.toByteArray());
    }
    return out;
  }

  private static JsonObject await(ServerProcess s, String id, Predicate<JsonObject> until) throws Exception {
    long deadline = System.currentTimeMillis() + JOB_TIMEOUT_MS;
    while (true) {
      JsonObject job = s.json("/api/v1/jobs/" + id);
      if (until.test(job)) {
        return job;
      }
      if (System.currentTimeMillis() > deadline) {
        fail("job did not get there in time: " + job.encode());
      }
      Thread.sleep(20);
    }
  }

  private static boolean finished(JsonObject job) {
    return job.getInteger("done", 0) + job.getInteger("failed", 0) == job.getInteger("total", -1);
  }

  /** The results of the same images through a server that is never stopped: cutouts, then mattes. */
  private List<BufferedImage> referenceRun(List<byte[]> images) throws Exception {
    try (TestServer server = TestServer.start(models, "tiny", null, cfg -> { })) {
      Multiparts.Body body = Multiparts.images(images);
      HttpResponse<byte[]> created = HttpClient.newHttpClient().send(HttpRequest.newBuilder(server.uri("/api/v1/jobs?matte=true"))
          .header("Content-Type", body.contentType()).POST(HttpRequest.BodyPublishers.ofByteArray(body.bytes())).build(),
          HttpResponse.BodyHandlers.ofByteArray());
      assertEquals(202, created.statusCode(), new String(created.body()));
      String id = new JsonObject(new String(created.body())).getString("id");
      long deadline = System.currentTimeMillis() + JOB_TIMEOUT_MS;
      JsonObject job;
      do {
        Thread.sleep(20);
        job = new JsonObject(new String(server.get("/api/v1/jobs/" + id).body()));
        assertTrue(System.currentTimeMillis() < deadline, job.encode());
      } while (!finished(job));
      assertEquals(images.size(), job.getInteger("done"), job.encode());
      List<BufferedImage> out = new ArrayList<>();
      for (String query : List.of("", "?output=alpha")) {
        for (int i = 0; i < images.size(); i++) {
          out.add(ImageIO.read(new ByteArrayInputStream(server.get("/api/v1/jobs/" + id + "/items/" + i + query).body())));
        }
      }
      return out;
    }
  }

  /** Every result downloadable, its alpha within 1/255 of the uninterrupted run's, and no input left on disk. */
  private void assertMatchesReference(ServerProcess s, String id, List<BufferedImage> reference) throws Exception {
    int i = 0;
    for (String query : List.of("", "?output=alpha")) {
      for (int n = 0; n < IMAGES; n++, i++) {
        HttpResponse<byte[]> r = s.get("/api/v1/jobs/" + id + "/items/" + n + query);
        assertEquals(200, r.statusCode(), "item " + n + query + ": " + new String(r.body()));
        BufferedImage got = ImageIO.read(new ByteArrayInputStream(r.body()));
        BufferedImage want = reference.get(i);
        assertEquals(want.getWidth(), got.getWidth());
        assertEquals(want.getHeight(), got.getHeight());
        int worst = 0;
        for (int y = 0; y < want.getHeight(); y++) {
          for (int x = 0; x < want.getWidth(); x++) {
            int a = query.isEmpty() ? want.getRGB(x, y) >>> 24 : want.getRaster().getSample(x, y, 0);
            int b = query.isEmpty() ? got.getRGB(x, y) >>> 24 : got.getRaster().getSample(x, y, 0);
            worst = Math.max(worst, Math.abs(a - b));
          }
        }
        assertTrue(worst <= MAX_ALPHA_DIFF, "item " + n + query + ": alpha differs by " + worst + "/255");
      }
    }
    assertEquals(200, s.get("/api/v1/jobs/" + id + "/archive").statusCode());
    // each input goes once the record saying its item is done is on disk: a moment after the status
    long deadline = System.currentTimeMillis() + INPUTS_GONE_MS;
    long left;
    do {
      try (Stream<Path> inputs = Files.list(outputs.resolve(id).resolve("inputs"))) {
        left = inputs.count();
      }
    } while (left > 0 && System.currentTimeMillis() < deadline);
    assertEquals(0, left, "inputs are deleted once their items are done");
  }

  @Test
  void sigkillMidJobThenRestartFinishesEveryImageLikeAnUninterruptedRun() throws Exception {
    List<byte[]> images = photos(IMAGES, 120, 90);
    List<BufferedImage> reference = referenceRun(images);
    String id;
    int doneAtKill;
    try (ServerProcess s = ServerProcess.start(models, "tiny", outputs, DELAY_MS, log("sigkill"), PACING)) {
      HttpResponse<byte[]> created = s.post("/api/v1/jobs?matte=true", Multiparts.images(images));
      assertEquals(202, created.statusCode(), new String(created.body()));
      id = new JsonObject(new String(created.body())).getString("id");
      doneAtKill = await(s, id, j -> j.getInteger("done") >= 2).getInteger("done");
      s.kill();
    }
    assertTrue(doneAtKill >= 2 && doneAtKill <= 5, "killed after " + doneAtKill + " images");
    JsonObject onDisk = new JsonObject(Files.readString(outputs.resolve(id).resolve("job.json")));
    assertTrue(onDisk.getInteger("done") < IMAGES, "the kill came mid-job: " + onDisk.encode());

    try (ServerProcess s = ServerProcess.start(models, "tiny", outputs, 0, log("sigkill-restart"))) {
      JsonObject job = await(s, id, DurableJobsTest::finished);
      assertEquals("done", job.getString("status"), job.encode());
      assertEquals(IMAGES, job.getInteger("done"));
      assertMatchesReference(s, id, reference);
      assertTrue(s.logText().contains("event=job_resumed job=" + id), "resumed without being asked");
    }
    System.out.printf("durable: SIGKILL after %d of %d done; after the restart %d of %d done%n", doneAtKill, IMAGES,
        IMAGES, IMAGES);
  }

  @Test
  void sigtermMidBatchFinishesTheBatchLeavesTheRestQueuedAndTheRestartFinishesThem() throws Exception {
    List<byte[]> images = photos(IMAGES, 120, 90);
    List<BufferedImage> reference = referenceRun(images);
    String id;
    int doneAtSignal;
    try (ServerProcess s = ServerProcess.start(models, "tiny", outputs, DELAY_MS, log("sigterm"), PACING)) {
      HttpResponse<byte[]> created = s.post("/api/v1/jobs?matte=true", Multiparts.images(images));
      assertEquals(202, created.statusCode(), new String(created.body()));
      id = new JsonObject(new String(created.body())).getString("id");
      // the first batch is done and the next one is inferring
      doneAtSignal = await(s, id, j -> j.getInteger("done") >= 2
          && j.getJsonArray("items").stream().anyMatch(o -> "inferring".equals(((JsonObject) o).getString("stage"))))
          .getInteger("done");
      assertTrue(s.terminate(), "the server exits by itself after SIGTERM");
      assertTrue(s.logText().contains("event=job_suspended job=" + id), "the stop says what it left queued");
      assertTrue(s.logText().contains("event=shutdown_done"), "the log stays open to the end");
    }
    JsonObject onDisk = new JsonObject(Files.readString(outputs.resolve(id).resolve("job.json")));
    int done = onDisk.getInteger("done");
    assertTrue(done > doneAtSignal, "the batch in flight finished within the grace period: " + done + " > " + doneAtSignal);
    assertTrue(done < IMAGES, "SIGTERM came mid-job: " + onDisk.encode());
    assertEquals(0, onDisk.getInteger("failed"), "nothing failed for stopping: " + onDisk.encode());
    for (Object o : onDisk.getJsonArray("items")) {
      JsonObject item = (JsonObject) o;
      if (!"done".equals(item.getString("stage"))) {
        assertEquals("queued", item.getString("stage"), item.encode());
        assertTrue(Files.exists(outputs.resolve(id).resolve("inputs").resolve(item.getInteger("index") + ".input")));
      }
    }

    try (ServerProcess s = ServerProcess.start(models, "tiny", outputs, 0, log("sigterm-restart"))) {
      JsonObject job = await(s, id, DurableJobsTest::finished);
      assertEquals(IMAGES, job.getInteger("done"), job.encode());
      assertMatchesReference(s, id, reference);
    }
    System.out.printf("durable: SIGTERM after %d of %d done, %d done at exit; after the restart %d of %d done%n",
        doneAtSignal, IMAGES, done, IMAGES, IMAGES);
  }

  private static byte[] zip(List<byte[]> images) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(bytes)) {
      for (int i = 0; i < images.size(); i++) {
        z.putNextEntry(new ZipEntry("photos/p" + i + ".png"));
        z.write(images.get(i));
        z.closeEntry();
      }
    }
    return bytes.toByteArray();
  }

  private boolean staging() throws Exception {
    Path incoming = outputs.resolve(".incoming");
    if (!Files.isDirectory(incoming)) {
      return false;
    }
    try (Stream<Path> files = Files.walk(incoming)) {
      return files.anyMatch(Files::isRegularFile);
    }
  }

  private List<String> jobIds(ServerProcess s) throws Exception {
    JsonArray jobs = s.json("/api/v1/jobs").getJsonArray("jobs");
    return jobs.stream().map(o -> ((JsonObject) o).getString("id")).toList();
  }

  @Test
  void aKillWhileAZipIsUnpackedLeavesNoJobOrOneThatResumesWhole() throws Exception {
    byte[] zip = zip(photos(ZIP_IMAGES, 100, 75));
    Multiparts.Body body = Multiparts.of(List.of(new Multiparts.FilePart("image", "photos.zip", "application/zip", zip)));
    boolean stagedAtKill;
    try (ServerProcess s = ServerProcess.start(models, "tiny", outputs, DELAY_MS, log("zip-kill"))) {
      CompletableFuture<HttpResponse<byte[]>> upload = CompletableFuture.supplyAsync(() -> {
        try {
          return s.post("/api/v1/jobs", body);
        } catch (Exception e) {
          return null; // the server died under the request: expected
        }
      });
      long deadline = System.currentTimeMillis() + JOB_TIMEOUT_MS;
      while (!staging() && !upload.isDone() && System.currentTimeMillis() < deadline) {
        Thread.onSpinWait();
      }
      stagedAtKill = staging();
      s.kill();
      HttpResponse<byte[]> r = upload.get();
      assertTrue(r == null || r.statusCode() == 202, "no answer, or accepted whole");
    }
    assertTrue(stagedAtKill, "the kill landed while the zip's images were being written");

    try (ServerProcess s = ServerProcess.start(models, "tiny", outputs, 0, log("zip-kill-restart"))) {
      List<String> ids = jobIds(s);
      assertFalse(staging(), "half an upload never stays");
      if (ids.isEmpty()) {
        System.out.println("durable: killed while unpacking a " + ZIP_IMAGES + "-image zip: no job (never acknowledged)");
      } else {
        // committed just before the kill: then whole, and it runs to the end
        assertEquals(1, ids.size());
        JsonObject job = await(s, ids.get(0), DurableJobsTest::finished);
        assertEquals(ZIP_IMAGES, job.getInteger("total"));
        assertEquals(ZIP_IMAGES, job.getInteger("done"), job.encode());
        System.out.println("durable: killed while unpacking a " + ZIP_IMAGES + "-image zip: the job resumed whole");
      }
    }
  }

  @Test
  void aKillRightAfterTheZipIsAcceptedResumesTheWholeJob() throws Exception {
    List<byte[]> images = photos(IMAGES, 100, 75);
    Multiparts.Body body = Multiparts.of(List.of(new Multiparts.FilePart("image", "photos.zip", "application/zip",
        zip(images))));
    String id;
    try (ServerProcess s = ServerProcess.start(models, "tiny", outputs, DELAY_MS, log("zip-accepted"), PACING)) {
      HttpResponse<byte[]> created = s.post("/api/v1/jobs", body);
      assertEquals(202, created.statusCode(), new String(created.body()));
      id = new JsonObject(new String(created.body())).getString("id");
      s.kill();
    }
    try (ServerProcess s = ServerProcess.start(models, "tiny", outputs, 0, log("zip-accepted-restart"))) {
      JsonObject job = await(s, id, DurableJobsTest::finished);
      assertEquals(IMAGES, job.getInteger("done"), job.encode());
      assertEquals(200, s.get("/api/v1/jobs/" + id + "/items/" + (IMAGES - 1)).statusCode());
      assertEquals("p9.png", job.getJsonArray("items").getJsonObject(IMAGES - 1).getString("name"));
    }
  }
}
