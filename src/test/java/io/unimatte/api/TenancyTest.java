package io.unimatte.api;

import io.unimatte.testing.Multiparts;
import io.unimatte.testing.TestServer;
import io.unimatte.testing.TestSessions;
import io.unimatte.testing.TinyModel;
import io.unimatte.testing.WsClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tenants kept apart: with two API keys, every job route and WebSocket message tried with the
 * other key's job id answers exactly like a job that does not exist, no answer carries who made a
 * job, and an admin key sees every job. Over real HTTP and WebSocket against a running server.
 */
class TenancyTest {
  private static final long WAIT_MS = 30_000;
  @TempDir
  Path models;
  @TempDir
  Path outputs;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final String keyA = "a-" + UUID.randomUUID();
  private final String keyB = "b-" + UUID.randomUUID();
  private final String admin = "admin-" + UUID.randomUUID();

  private HttpResponse<byte[]> send(TestServer s, String method, String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(s.uri(path)).method(method, HttpRequest.BodyPublishers.noBody());
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private HttpResponse<byte[]> as(TestServer s, String key, String method, String path) throws Exception {
    return send(s, method, path, "X-Api-Key", key);
  }

  private HttpResponse<byte[]> postJob(TestServer s, String key, int width) throws Exception {
    Multiparts.Body body = Multiparts.images(List.of(MatteApiTestAccess.png(width)));
    return http.send(HttpRequest.newBuilder(s.uri("/api/v1/jobs?matte=true")).header("X-Api-Key", key)
        .header("Content-Type", body.contentType()).POST(HttpRequest.BodyPublishers.ofByteArray(body.bytes())).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  private static JsonObject json(HttpResponse<byte[]> r) {
    return new JsonObject(new String(r.body()));
  }

  /** Nothing in an answer says who made a job: no address, no key id. */
  private static void noOwnerIn(String answer) {
    assertFalse(answer.contains("\"client\"") || answer.contains("\"owner\"") || answer.contains("key:")
        || answer.contains("ip:"), answer);
  }

  private JsonObject finished(TestServer s, String key, String id) throws Exception {
    long deadline = System.currentTimeMillis() + WAIT_MS;
    while (true) {
      JsonObject job = json(as(s, key, "GET", "/api/v1/jobs/" + id));
      if ("done".equals(job.getString("status"))) {
        return job;
      }
      assertTrue(System.currentTimeMillis() < deadline, job.encode());
      Thread.sleep(20);
    }
  }

  private static List<String> ids(JsonObject list) {
    List<String> ids = new ArrayList<>();
    list.getJsonArray("jobs").forEach(j -> ids.add(((JsonObject) j).getString("id")));
    return ids;
  }

  /**
   * Every job route with {@code key} on job {@code id} (which is not that key's): each answer must
   * be the very one a job id that never existed gets.
   */
  private List<String> tryEveryRoute(TestServer s, String key, String id) throws Exception {
    String nobody = UUID.randomUUID().toString();
    List<String> tried = new ArrayList<>();
    for (String[] route : new String[][] {{"GET", ""}, {"GET", "?review=true"}, {"GET", "/items/0"},
        {"GET", "/items/0?output=alpha"}, {"GET", "/items/7"}, {"GET", "/archive"}, {"POST", "/retry"},
        {"DELETE", ""}}) {
      HttpResponse<byte[]> theirs = as(s, key, route[0], "/api/v1/jobs/" + id + route[1]);
      HttpResponse<byte[]> none = as(s, key, route[0], "/api/v1/jobs/" + nobody + route[1]);
      String what = route[0] + " " + route[1];
      assertEquals(404, theirs.statusCode(), what + ": " + new String(theirs.body()));
      assertEquals("job_not_found", MatteApiTest.error(theirs).getString("code"), what);
      assertEquals(new String(none.body()).replace(nobody, id), new String(theirs.body()),
          what + ": no hint that the job exists");
      tried.add(what + " → " + theirs.statusCode() + " " + MatteApiTest.error(theirs).getString("code"));
    }
    return tried;
  }

  /** WebSocket {@code subscribe} and {@code retry} of {@code id} from a socket that may not see it. */
  private static void wsRefused(WsClient ws, String id) throws Exception {
    for (String type : new String[] {"subscribe", "retry"}) {
      ws.send(new JsonObject().put("type", type).put("jobId", id).put("ref", type));
      JsonObject m = ws.next();
      assertEquals("error", m.getString("type"), m.encode());
      assertEquals("job_not_found", m.getString("code"), type);
      assertEquals(type, m.getString("ref"));
      assertEquals("no job '" + id + "'", m.getString("message"));
    }
  }

  /** A ping answered at once by its pong: nothing else (another client's events) came before it. */
  private static void onlyPong(WsClient ws) throws Exception {
    ws.send(new JsonObject().put("type", "ping").put("ref", "p"));
    JsonObject m = ws.next();
    assertEquals("pong", m.getString("type"), "nothing but the pong: " + m.encode());
  }

  @Test
  void everyJobRouteAndMessageWithTheOtherKeysJobIdIsJobNotFound() throws Exception {
    Path dir = TinyModel.write(models, "tiny");
    CountDownLatch gate = new CountDownLatch(1);
    try (TestServer s = TestServer.start(models, "tiny", TestSessions.slowTinyModel(dir, 0, gate), cfg -> {
      cfg.getJsonObject("security").put("apiKeys", new JsonArray().add(keyA).add(keyB))
          .put("adminKeys", new JsonArray().add(admin));
      cfg.getJsonObject("jobs").put("outputsDir", outputs.toString()).put("maxConcurrentJobsPerClient", 1);
      cfg.getJsonObject("inference").put("maxBatchSize", 1).put("warmupRuns", 0);
    })) {
      // A's job runs (held in the model); the running-job limit is A's alone
      HttpResponse<byte[]> created = postJob(s, keyA, 30);
      assertEquals(202, created.statusCode(), new String(created.body()));
      noOwnerIn(new String(created.body()));
      String jobA = json(created).getString("id");
      HttpResponse<byte[]> second = postJob(s, keyA, 31);
      assertEquals(429, second.statusCode(), "A's second running job: " + new String(second.body()));
      assertEquals("too_many_jobs", MatteApiTest.error(second).getString("code"));
      HttpResponse<byte[]> createdB = postJob(s, keyB, 32);
      assertEquals(202, createdB.statusCode(), "B's limit is its own: " + new String(createdB.body()));
      String jobB = json(createdB).getString("id");

      // B on A's running job: 404 everywhere (an item of a running job would be 409 for its owner)
      assertEquals(409, as(s, keyA, "GET", "/api/v1/jobs/" + jobA + "/items/0").statusCode());
      List<String> tried = new ArrayList<>(tryEveryRoute(s, keyB, jobA));
      WsClient wsA = WsClient.connect(s, keyA);
      WsClient wsB = WsClient.connect(s, keyB);
      wsRefused(wsB, jobA);
      wsA.send(new JsonObject().put("type", "subscribe").put("jobId", jobA));
      JsonObject subscribed = wsA.next();
      assertEquals("subscribed", subscribed.getString("type"), subscribed.encode());
      noOwnerIn(subscribed.encode());

      gate.countDown();
      JsonObject m;
      do {
        m = wsA.next();
      } while (!"job_done".equals(m.getString("type")));
      finished(s, keyB, jobB);
      onlyPong(wsB);

      // finished: B still gets nothing, over HTTP or the socket
      tried.addAll(tryEveryRoute(s, keyB, jobA));
      tried.addAll(tryEveryRoute(s, keyA, jobB));
      wsRefused(wsB, jobA);
      wsRefused(wsA, jobB);
      onlyPong(wsB);
      assertEquals(200, as(s, keyA, "GET", "/api/v1/jobs/" + jobA).statusCode(), "B's DELETE did not delete it");
      assertEquals(200, as(s, keyA, "GET", "/api/v1/jobs/" + jobA + "/items/0").statusCode());

      // lists: each key its own; nothing says who made a job
      HttpResponse<byte[]> listA = as(s, keyA, "GET", "/api/v1/jobs");
      HttpResponse<byte[]> listB = as(s, keyB, "GET", "/api/v1/jobs");
      assertEquals(List.of(jobA), ids(json(listA)));
      assertEquals(List.of(jobB), ids(json(listB)));
      HttpResponse<byte[]> own = as(s, keyA, "GET", "/api/v1/jobs/" + jobA);
      for (HttpResponse<byte[]> r : List.of(listA, listB, own)) {
        noOwnerIn(new String(r.body()));
      }
      HttpResponse<byte[]> archive = as(s, keyA, "GET", "/api/v1/jobs/" + jobA + "/archive");
      assertEquals(200, archive.statusCode());
      try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(archive.body()))) {
        for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
          if (e.getName().equals("job.json")) {
            noOwnerIn(new String(zip.readAllBytes()));
          }
        }
      }
      String record = Files.readString(outputs.resolve(jobA).resolve("job.json"));
      assertTrue(record.contains("\"owner\" : \"key:"), "the owner is on disk: " + record);
      assertFalse(record.contains(keyA), "as the key's id, never the key");

      // the owner's own calls pass the check: a retry with nothing to retry is 409, not 404
      assertEquals("nothing_to_retry", MatteApiTest.error(as(s, keyA, "POST", "/api/v1/jobs/" + jobA + "/retry"))
          .getString("code"));

      // a login session carries its key's identity
      HttpResponse<byte[]> login = as(s, keyB, "POST", "/api/v1/login");
      String cookie = login.headers().allValues("Set-Cookie").stream()
          .filter(c -> c.startsWith(AccessControl.COOKIE + "=")).findFirst().orElseThrow();
      String session = cookie.substring(0, cookie.indexOf(';'));
      assertEquals(404, send(s, "GET", "/api/v1/jobs/" + jobA, "Cookie", session).statusCode());
      assertEquals(200, send(s, "GET", "/api/v1/jobs/" + jobB, "Cookie", session).statusCode());
      assertEquals(List.of(jobB), ids(json(send(s, "GET", "/api/v1/jobs", "Cookie", session))));

      // an admin key sees and follows every job, and may act on it
      List<String> all = ids(json(as(s, admin, "GET", "/api/v1/jobs")));
      assertTrue(all.containsAll(List.of(jobA, jobB)), all.toString());
      noOwnerIn(new String(as(s, admin, "GET", "/api/v1/jobs").body()));
      assertEquals(200, as(s, admin, "GET", "/api/v1/jobs/" + jobA + "/items/0").statusCode());
      assertEquals(200, as(s, admin, "GET", "/api/v1/jobs/" + jobB + "/archive").statusCode());
      WsClient wsAdmin = WsClient.connect(s, admin);
      wsAdmin.send(new JsonObject().put("type", "subscribe").put("jobId", jobB));
      assertEquals("subscribed", wsAdmin.next().getString("type"));
      // B's job has ended: unimatte-ws/1.1 answers its job_done at once and holds nothing
      assertEquals("job_done", wsAdmin.next().getString("type"));
      wsAdmin.send(new JsonObject().put("type", "retry").put("jobId", jobA));
      assertEquals("nothing_to_retry", wsAdmin.next().getString("code"),
          "past the check: A's job has nothing to retry");
      String adminSession = AccessControl.COOKIE + "=" + as(s, admin, "POST", "/api/v1/login").headers()
          .allValues("Set-Cookie").stream().filter(c -> c.startsWith(AccessControl.COOKIE + "=")).findFirst()
          .map(c -> c.substring(c.indexOf('=') + 1, c.indexOf(';'))).orElseThrow();
      assertEquals(200, send(s, "GET", "/api/v1/jobs/" + jobA, "Cookie", adminSession).statusCode(),
          "an admin's session is an admin's");

      // the owner deletes its own job
      assertEquals(204, as(s, keyA, "DELETE", "/api/v1/jobs/" + jobA).statusCode());
      assertEquals(404, as(s, keyA, "GET", "/api/v1/jobs/" + jobA).statusCode());
      for (WsClient ws : List.of(wsA, wsB, wsAdmin)) {
        ws.ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
      }
      System.out.println("event=tenancy_tried\n  " + String.join("\n  ", tried));
    }
  }

  @Test
  void withoutKeysEveryClientSharesOneOwnerAndAMadeUpKeyIsNoClientOfItsOwn() throws Exception {
    Path dir = TinyModel.write(models, "tiny");
    CountDownLatch gate = new CountDownLatch(1);
    try (TestServer s = TestServer.start(models, "tiny", TestSessions.slowTinyModel(dir, 0, gate), cfg -> {
      cfg.getJsonObject("jobs").put("outputsDir", outputs.toString()).put("maxConcurrentJobsPerClient", 1);
      cfg.getJsonObject("inference").put("maxBatchSize", 1).put("warmupRuns", 0);
    })) {
      HttpResponse<byte[]> created = postJob(s, "made-up-1", 30);
      assertEquals(202, created.statusCode(), new String(created.body()));
      String id = json(created).getString("id");
      HttpResponse<byte[]> second = postJob(s, "made-up-2", 31);
      assertEquals(429, second.statusCode(), "the limit is per address: an unchecked header changes nothing");
      assertEquals(200, as(s, "made-up-3", "GET", "/api/v1/jobs/" + id).statusCode(), "one shared owner");
      assertEquals(List.of(id), ids(json(s.get("/api/v1/jobs"))));
      noOwnerIn(new String(s.get("/api/v1/jobs/" + id).body()));
      gate.countDown();
      finished(s, "any", id);
      assertTrue(Files.readString(outputs.resolve(id).resolve("job.json")).contains("\"owner\" : \"shared\""));
    }
  }
}
