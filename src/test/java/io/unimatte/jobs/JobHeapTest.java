package io.unimatte.jobs;

import io.unimatte.testing.Multiparts;
import io.unimatte.testing.ServerProcess;
import io.unimatte.testing.TinyModel;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The heap holds the images in flight, not the job. The server's live heap (reachable objects,
 * read with {@code jcmd}) is measured while a job's first images are held in the model (each
 * session call stalls), so the pipeline is in the same state for both jobs: {@code jobs.maxInFlight}
 * images in it, the rest waiting. A 500-image zip then costs about what a 10-image zip costs,
 * far less than the images themselves.
 */
class JobHeapTest {
  private static final int SMALL = 10;
  private static final int LARGE = 500;
  /** Noise does not compress: each PNG is about 30 KB, the 500-image zip about 15 MB. */
  private static final int SIDE = 100;
  /** Per session call: the first batch stays in the model while the heap is read. */
  private static final long STALL_MS = 30_000;
  private static final long SETTLE_MS = 1_000;
  private static final long WAIT_MS = 20_000;
  private static final Pattern TOTAL = Pattern.compile("(?m)^Total\\s+\\d+\\s+(\\d+)");
  private static final double MB = 1024.0 * 1024.0;

  @TempDir
  Path tmp;

  private static byte[] zipOfNoise(int n) throws Exception {
    Random random = new Random(n);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(bytes)) {
      z.setLevel(0); // stored: the upload is as big as the images
      for (int i = 0; i < n; i++) {
        BufferedImage img = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < SIDE; y++) {
          for (int x = 0; x < SIDE; x++) {
            img.setRGB(x, y, random.nextInt(1 << 24));
          }
        }
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(img, "png", png);
        z.putNextEntry(new ZipEntry("n" + i + ".png"));
        z.write(png.toByteArray());
        z.closeEntry();
      }
    }
    return bytes.toByteArray();
  }

  /**
   * Live heap of the process: the total of a class histogram, which counts only reachable objects
   * (it collects first, in the same step: a separate GC and a later reading would count what the
   * server allocated in between).
   */
  private static long liveHeap(long pid) throws Exception {
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    Process p = new ProcessBuilder(jcmd, Long.toString(pid), "GC.class_histogram").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    Matcher m = TOTAL.matcher(out);
    assertTrue(m.find(), out);
    return Long.parseLong(m.group(1));
  }

  private record Sample(int images, long zipBytes, long idle, long held) {
    long grown() {
      return held - idle;
    }
  }

  /** A fresh server; the job's first batch stalls in the model; the live heap before and with the job. */
  private Sample measure(int images) throws Exception {
    byte[] zip = zipOfNoise(images);
    Path dir = tmp.resolve("run-" + images);
    try (ServerProcess s = ServerProcess.start(tmp.resolve("models"), "tiny", dir.resolve("outputs"), STALL_MS,
        Path.of("target", "durable-jobs-logs", "heap-" + images + ".log"), "--inference.warmupRuns=0")) {
      long idle = liveHeap(s.pid());
      HttpResponse<byte[]> created = s.post("/api/v1/jobs", Multiparts.of(List.of(
          new Multiparts.FilePart("image", "noise.zip", "application/zip", zip))));
      assertEquals(202, created.statusCode(), new String(created.body()));
      String id = new JsonObject(new String(created.body())).getString("id");
      long deadline = System.currentTimeMillis() + WAIT_MS;
      JsonObject job;
      do {
        Thread.sleep(SETTLE_MS / 10);
        job = s.json("/api/v1/jobs/" + id);
        assertTrue(System.currentTimeMillis() < deadline, job.encode());
      } while (job.getJsonArray("items").stream().noneMatch(o -> "inferring".equals(((JsonObject) o).getString("stage"))));
      Thread.sleep(SETTLE_MS); // the rest of the in-flight images reach the model's queue
      long held = liveHeap(s.pid());
      assertEquals(0, s.json("/api/v1/jobs/" + id).getInteger("done"), "still stalled while measured");
      return new Sample(images, zip.length, idle, held);
    }
  }

  @Test
  void aFiveHundredImageJobNeedsAboutTheHeapOfATenImageJob() throws Exception {
    TinyModel.write(tmp.resolve("models"), "tiny");
    Sample small = measure(SMALL);
    Sample large = measure(LARGE);
    for (Sample x : List.of(small, large)) {
      System.out.printf("heap: %d-image zip (%.1f MB): live heap %.1f MB idle, %.1f MB with the job (+%.1f MB)%n",
          x.images(), x.zipBytes() / MB, x.idle() / MB, x.held() / MB, x.grown() / MB);
    }
    // holding the job's images would add the whole zip; the job's record and queue are the budget
    assertTrue(large.grown() - small.grown() < large.zipBytes() / 4,
        "the 500-image job took " + (large.grown() - small.grown()) / MB + " MB more than the 10-image job");
  }
}
