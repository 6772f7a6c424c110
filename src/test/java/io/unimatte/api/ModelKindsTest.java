package io.unimatte.api;

import io.unimatte.testing.ModelFixtures;
import io.unimatte.testing.RealModel;
import io.unimatte.testing.TestPhotos;
import io.unimatte.testing.TestServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bring-your-own-model: one server loads, through {@code config.json}, a SavedModel (NCHW, BGR), a
 * CV-UNet-style frozen graph (any size, one image per call, on two sessions), the same graph with
 * BGR order, an ONNX file, the real ISNet, and three broken models. The good ones must each answer
 * with their own alpha for photos of two sizes; the broken ones fail with one clear line each.
 */
class ModelKindsTest {
  private static final int RED = 0xFFFF0000;
  private static final int BLUE = 0xFF0000FF;
  private static final int NCHW_SIZE = 24;
  private static final int ONNX_SIZE = 16;
  private static final double TOLERANCE = 2.0;
  @TempDir
  static Path models;
  private static TestServer server;
  private static final ConcurrentLinkedQueue<LogRecord> LOGS = new ConcurrentLinkedQueue<>();
  private static final Handler CAPTURE = new Handler() {
    @Override
    public void publish(LogRecord r) {
      LOGS.add(r);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }
  };

  @BeforeAll
  static void start() throws Exception {
    ModelFixtures.nchwSavedModel(models, "bluenchw", NCHW_SIZE);
    ModelFixtures.cvUnetFrozenGraph(models.resolve("cvunet/tf_graph.pb"));
    ModelFixtures.onnxModel(models.resolve("onnx/red.onnx"), ONNX_SIZE);
    Files.write(models.resolve("corrupt.pb"), new byte[] {0x0A, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F, 1, 2});
    Files.createSymbolicLink(models.resolve("isnet"), RealModel.isnetDir().toAbsolutePath());
    JsonArray serve = new JsonArray()
        .add("isnet")
        .add("bluenchw")
        .add(new JsonObject().put("name", "cvunet").put("kind", "frozen-graph").put("path", "cvunet/tf_graph.pb")
            .put("contract", "cvunet").put("sessions", 2).put("purpose", "test: red threshold, any size"))
        .add(new JsonObject().put("name", "cvunet-bgr").put("kind", "frozen-graph").put("path", "cvunet/tf_graph.pb")
            .put("contract", "cvunet").put("input", new JsonObject().put("colorOrder", "BGR")))
        .add(new JsonObject().put("name", "onnxred").put("kind", "onnx").put("path", "onnx/red.onnx")
            .put("input", new JsonObject().put("key", "image").put("size", ONNX_SIZE).put("mean", 0).put("std", 255))
            .put("output", new JsonObject().put("key", "mask")))
        .add("ghost")
        .add(new JsonObject().put("name", "corrupt").put("kind", "frozen-graph").put("path", "corrupt.pb")
            .put("contract", "cvunet"))
        .add(new JsonObject().put("name", "wrongnames").put("kind", "frozen-graph").put("path", "cvunet/tf_graph.pb")
            .put("contract", "cvunet").put("input", new JsonObject().put("key", "nope:0")));
    Logger.getLogger("").addHandler(CAPTURE);
    server = TestServer.start(models, "cvunet", null, cfg -> {
      cfg.getJsonObject("models").put("serve", serve).put("personModel", "bluenchw");
      cfg.getJsonObject("inference").put("maxBatchDelayMs", 150);
      cfg.getJsonObject("cache").put("enabled", false);
    });
  }

  @AfterAll
  static void stop() throws Exception {
    Logger.getLogger("").removeHandler(CAPTURE);
    if (server != null) {
      server.close();
    }
  }

  /** Left half red, right half blue. */
  private static byte[] redBlue(int w, int h) throws Exception {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, x < w / 2 ? RED : BLUE);
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }

  private static HttpResponse<byte[]> matte(String query, byte[] png) throws Exception {
    // refine=false: these tests check each model's own matte, before the refinement reworks it
    return server.postMultipart("/api/v1/matte?output=alpha&refine=false" + query, "image", "a.png", "image/png", png);
  }

  private static int[] alphaOf(HttpResponse<byte[]> r) throws Exception {
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(r.body()));
    int[] a = new int[img.getWidth() * img.getHeight()];
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        a[y * img.getWidth() + x] = img.getRaster().getSample(x, y, 0);
      }
    }
    return a;
  }

  /** Checks pixels away from the red/blue border: {@code redOpaque} says which side the model keeps. */
  private static void assertSides(String model, HttpResponse<byte[]> r, int w, int h, boolean redOpaque,
                                  int margin) throws Exception {
    assertEquals(200, r.statusCode(), () -> model + ": " + new String(r.body()));
    assertEquals(model, r.headers().firstValue("X-Model").orElse(null));
    int[] a = alphaOf(r);
    assertEquals(w * h, a.length, model + ": output keeps the photo's size");
    double opaque = 255 * ModelFixtures.expectedAlpha(255);
    double clear = 255 * ModelFixtures.expectedAlpha(0);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        boolean red = x < w / 2;
        if (Math.abs(x - w / 2.0) < margin) {
          continue;
        }
        double want = red == redOpaque ? opaque : clear;
        int got = a[y * w + x];
        assertTrue(Math.abs(got - want) <= TOLERANCE, model + " " + w + "x" + h + " at " + x + "," + y
            + ": alpha " + got + ", expected " + want);
      }
    }
  }

  @Test
  void eachKindAndContractGivesItsOwnAlphaAtTwoSizes() throws Exception {
    for (int[] size : new int[][] {{64, 48}, {45, 83}}) {
      int w = size[0];
      int h = size[1];
      byte[] png = redBlue(w, h);
      // fixed-size models resample to their square and back: skip a band around the border
      int band = (int) Math.ceil(2.0 * w / Math.min(NCHW_SIZE, ONNX_SIZE)) + 2;
      assertSides("bluenchw", matte("&model=bluenchw", png), w, h, false, band);
      assertSides("onnxred", matte("&model=onnxred", png), w, h, true, band);
      // the CV-UNet contract runs at the photo's own size: every pixel, border included
      assertSides("cvunet", matte("&model=cvunet", png), w, h, true, 0);
      assertSides("cvunet", matte("", png), w, h, true, 0);
      assertSides("cvunet-bgr", matte("&model=cvunet-bgr", png), w, h, false, 0);
    }
  }

  @Test
  void modelsListSaysWhatIsLoadedAndWhatFailed() throws Exception {
    HttpResponse<byte[]> r = server.get("/api/v1/models");
    assertEquals(200, r.statusCode());
    JsonObject body = new JsonObject(new String(r.body()));
    assertEquals("cvunet", body.getString("default"));
    Map<String, JsonObject> byName = new java.util.HashMap<>();
    body.getJsonArray("models").forEach(o -> byName.put(((JsonObject) o).getString("name"), (JsonObject) o));
    for (String ok : List.of("isnet", "bluenchw", "cvunet", "cvunet-bgr", "onnxred")) {
      assertEquals("ready", byName.get(ok).getString("status"), ok + ": " + byName.get(ok));
    }
    assertEquals("frozen-graph", byName.get("cvunet").getString("kind"));
    assertEquals("cvunet", byName.get("cvunet").getJsonObject("contract").getString("name"));
    assertEquals(false, byName.get("cvunet").getJsonObject("contract").getBoolean("batched"));
    assertEquals("onnx", byName.get("onnxred").getString("kind"));
    assertEquals("NCHW", byName.get("bluenchw").getJsonObject("contract").getString("layout"));
    assertTrue(byName.get("isnet").getJsonObject("license").getString("weights").contains("MIT"));
    assertTrue(byName.get("ghost").getString("error").contains("model.json is missing"), byName.get("ghost").encode());
    assertTrue(byName.get("corrupt").getString("error").contains("not a TensorFlow GraphDef"),
        byName.get("corrupt").encode());
    assertTrue(byName.get("wrongnames").getString("error").contains("tensor 'nope:0' not found"),
        byName.get("wrongnames").encode());
    for (String bad : List.of("ghost", "corrupt", "wrongnames")) {
      assertEquals("failed", byName.get(bad).getString("status"));
      List<LogRecord> lines = LOGS.stream().filter(l -> String.valueOf(l.getMessage())
          .startsWith("event=model_failed model=" + bad + " ")).toList();
      assertEquals(1, lines.size(), bad + ": one log line");
      assertNull(lines.get(0).getThrown(), bad + ": no stack trace");
      assertTrue(lines.get(0).getMessage().contains("model '" + bad + "'"), lines.get(0).getMessage());
    }
    JsonObject health = new JsonObject(new String(server.get("/health").body()));
    assertEquals(false, health.getJsonObject("models").getJsonObject("cvunet").getBoolean("batched"));
    assertEquals(2, health.getJsonObject("models").getJsonObject("cvunet").getInteger("sessions"));
    assertTrue(health.getJsonObject("models").getJsonObject("cvunet").getString("note").contains("one by one"));
  }

  @Test
  void removeBgTypePersonUsesThePersonModelAndModelStillWins() throws Exception {
    byte[] png = redBlue(40, 30);
    HttpResponse<byte[]> person = server.postMultipart("/v1.0/removebg?type=person", "image_file", "a.png",
        "image/png", png);
    assertEquals(200, person.statusCode(), () -> new String(person.body()));
    assertEquals("bluenchw", person.headers().firstValue("X-Model").orElse(null));
    BufferedImage cut = ImageIO.read(new ByteArrayInputStream(person.body()));
    assertTrue((cut.getRGB(35, 15) >>> 24) > (cut.getRGB(4, 15) >>> 24), "the person model keeps the blue side");
    HttpResponse<byte[]> other = server.postMultipart("/v1.0/removebg?type=product", "image_file", "a.png",
        "image/png", png);
    assertEquals("cvunet", other.headers().firstValue("X-Model").orElse(null), "other types use the default");
    HttpResponse<byte[]> named = server.postMultipart("/v1.0/removebg?type=person&model=onnxred", "image_file",
        "a.png", "image/png", png);
    assertEquals("onnxred", named.headers().firstValue("X-Model").orElse(null), "model= wins over type=");
    JsonObject listed = new JsonObject(new String(server.get("/api/v1/models").body()));
    listed.getJsonArray("models").stream().map(o -> (JsonObject) o).filter(o -> "ready".equals(o.getString("status")))
        .forEach(o -> assertEquals("bluenchw".equals(o.getString("name")), o.getBoolean("person"), o.encode()));
  }

  @Test
  void unknownAndFailedModelsGetClearErrors() throws Exception {
    byte[] png = redBlue(20, 10);
    HttpResponse<byte[]> unknown = matte("&model=nosuch", png);
    assertEquals(400, unknown.statusCode());
    assertEquals("unknown_model", new JsonObject(new String(unknown.body())).getJsonObject("error").getString("code"));
    HttpResponse<byte[]> failed = matte("&model=corrupt", png);
    assertEquals(503, failed.statusCode());
    JsonObject err = new JsonObject(new String(failed.body())).getJsonObject("error");
    assertEquals("model_unavailable", err.getString("code"));
    assertTrue(err.getString("message").contains("not a TensorFlow GraphDef"), err.encode());
  }

  @Test
  void isnetAndATestModelAreEachUsedWhenAskedFor() throws Exception {
    byte[] photo = TestPhotos.bytes("astronaut.png");
    HttpResponse<byte[]> isnet = matte("&model=isnet", photo);
    assertEquals(200, isnet.statusCode());
    assertEquals("isnet", isnet.headers().firstValue("X-Model").orElse(null));
    HttpResponse<byte[]> cv = matte("&model=cvunet", photo);
    assertEquals("cvunet", cv.headers().firstValue("X-Model").orElse(null));
    BufferedImage src = ImageIO.read(new ByteArrayInputStream(photo));
    int[] a = alphaOf(cv);
    int[] i = alphaOf(isnet);
    int differing = 0;
    for (int y = 0; y < src.getHeight(); y += 7) {
      for (int x = 0; x < src.getWidth(); x += 7) {
        int red = (src.getRGB(x, y) >> 16) & 0xFF;
        int p = y * src.getWidth() + x;
        assertTrue(Math.abs(a[p] - 255 * ModelFixtures.expectedAlpha(red)) <= TOLERANCE, "cvunet at " + x + "," + y);
        if (Math.abs(a[p] - i[p]) > 64) {
          differing++;
        }
      }
    }
    assertTrue(differing > 100, "ISNet's matte is not the test model's: " + differing + " sampled pixels differ");
  }

  @Test
  void concurrentRequestsForTwoBatchedModelsAreNeverMixed() throws Exception {
    int w = 40;
    int h = 30;
    byte[] png = redBlue(w, h);
    List<CompletableFuture<HttpResponse<byte[]>>> calls = new ArrayList<>();
    List<String> asked = new ArrayList<>();
    for (int k = 0; k < 16; k++) {
      String model = k % 2 == 0 ? "bluenchw" : "onnxred";
      asked.add(model);
      calls.add(CompletableFuture.supplyAsync(() -> {
        try {
          return matte("&model=" + model, png);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }));
    }
    int maxBatch = 0;
    for (int k = 0; k < calls.size(); k++) {
      HttpResponse<byte[]> r = calls.get(k).get();
      String model = asked.get(k);
      assertSides(model, r, w, h, model.equals("onnxred"), (int) Math.ceil(2.0 * w / ONNX_SIZE) + 2);
      maxBatch = Math.max(maxBatch, Integer.parseInt(r.headers().firstValue("X-Batch-Size").orElse("1")));
    }
    assertTrue(maxBatch > 1, "requests were batched (max batch " + maxBatch + ")");
  }

  @Test
  void jobsUseTheModelTheyNamed() throws Exception {
    HttpResponse<byte[]> created = server.postMultipart("/api/v1/jobs?model=onnxred&output=alpha", "image", "a.png",
        "image/png", redBlue(32, 32));
    assertEquals(202, created.statusCode(), new String(created.body()));
    String id = new JsonObject(new String(created.body())).getString("id");
    JsonObject job = null;
    for (int t = 0; t < 200; t++) {
      job = new JsonObject(new String(server.get("/api/v1/jobs/" + id).body()));
      if ("done".equals(job.getString("status"))) {
        break;
      }
      Thread.sleep(50);
    }
    assertNotNull(job);
    assertEquals("done", job.getString("status"), job.encode());
    assertEquals("onnxred", job.getJsonArray("items").getJsonObject(0).getString("model"));
  }
}
