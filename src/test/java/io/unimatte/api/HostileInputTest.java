package io.unimatte.api;

import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The smaller holes of the tenancy issue: a nameless multipart file part, a bad percent-encoding
 * and zip entry names with CR/LF each get a 4xx JSON error (never a 500, never no answer); zip
 * entries larger than {@code imaging.maxBytes} and non-images are left out, counted and reported;
 * left-out entries still count against {@code jobs.maxZipBytes}.
 */
class HostileInputTest {
  /** imaging.maxBytes here: the test PNGs are far below it. */
  private static final int MAX_IMAGE_BYTES = 20_000;
  private static final int MAX_ZIP_BYTES = 5_000_000;
  /** Longer than any answer may take: past it the server gave no answer. */
  private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(10);
  @TempDir
  static Path models;
  @TempDir
  static Path outputs;
  private static TestServer server;
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private static final List<String> TRIED = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    TinyModel.write(models, "tiny");
    server = TestServer.start(models, "tiny", null, cfg -> {
      cfg.getJsonObject("imaging").put("maxBytes", MAX_IMAGE_BYTES);
      cfg.getJsonObject("jobs").put("maxZipBytes", MAX_ZIP_BYTES).put("outputsDir", outputs.toString());
    });
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
    System.out.println("event=hostile_inputs_tried\n  " + String.join("\n  ", TRIED));
  }

  private static HttpResponse<byte[]> post(String path, String contentType, byte[] body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(server.uri(path)).timeout(ANSWER_TIMEOUT)
        .header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  /** The error code of a JSON answer in either shape (remove.bg's {@code errors[]}, or {@code error}). */
  private static String code(HttpResponse<byte[]> r) {
    JsonObject json = new JsonObject(new String(r.body(), StandardCharsets.UTF_8));
    return json.containsKey("errors") ? json.getJsonArray("errors").getJsonObject(0).getString("code")
        : json.getJsonObject("error").getString("code");
  }

  private static void expect(String what, int status, String code, HttpResponse<byte[]> r) throws Exception {
    assertEquals(status, r.statusCode(), what + ": " + new String(r.body(), StandardCharsets.UTF_8));
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), what);
    assertEquals(code, code(r), what);
    TRIED.add(what + " → " + status + " " + code);
    HttpResponse<byte[]> ok = server.postRaw("/api/v1/matte?output=alpha", "image/png", MatteApiTestAccess.png(20));
    assertEquals(200, ok.statusCode(), "the server answers a normal request right after " + what);
  }

  /** A multipart body of one part with the given Content-Disposition. */
  private static byte[] onePart(String boundary, String disposition, byte[] data) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(("--" + boundary + "\r\nContent-Disposition: " + disposition
        + "\r\nContent-Type: image/png\r\n\r\n").getBytes(StandardCharsets.UTF_8));
    body.writeBytes(data);
    body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
    return body.toByteArray();
  }

  @Test
  void aFilePartWithoutANameIsA400Everywhere() throws Exception {
    String boundary = "b" + UUID.randomUUID();
    String type = "multipart/form-data; boundary=" + boundary;
    byte[] body = onePart(boundary, "form-data; filename=\"a.png\"", MatteApiTestAccess.png(20));
    expect("POST /api/v1/jobs, part with filename and no name", 400, "invalid_multipart",
        post("/api/v1/jobs", type, body));
    expect("POST /api/v1/matte, part with filename and no name", 400, "missing_image",
        post("/api/v1/matte", type, body));
    expect("POST /v1.0/removebg, part with filename and no name", 400, "missing_image",
        post("/v1.0/removebg", type, body));
    byte[] empty = onePart(boundary, "form-data; name=; filename=\"a.png\"", MatteApiTestAccess.png(20));
    expect("POST /api/v1/jobs, part with an empty name", 400, "missing_image", post("/api/v1/jobs", type, empty));
  }

  @Test
  void aBadPercentEncodingIsA400() throws Exception {
    String form = "application/x-www-form-urlencoded";
    for (String bad : List.of("image_url=%zz", "image_url=http%3A%2", "size=full&image_file_b64=%", "%G0=1")) {
      expect("POST /v1.0/removebg form '" + bad + "'", 400, "invalid_parameter",
          post("/v1.0/removebg", form, bad.getBytes(StandardCharsets.US_ASCII)));
    }
    expect("POST /api/v1/matte form 'image_b64=%zz'", 400, "invalid_parameter",
        post("/api/v1/matte", form, "image_b64=%zz".getBytes(StandardCharsets.US_ASCII)));
    // the JDK client refuses such URLs: sent over a plain socket
    for (String path : List.of("/api/v1/matte?output=%zz", "/v1.0/removebg?size=%", "/api/v1/jobs?format=%e2%28",
        "/api/v1/jobs/%zz")) {
      String[] answer = raw("POST " + path, "image/png", MatteApiTestAccess.png(20));
      int status = Integer.parseInt(answer[0]);
      assertTrue(status >= 400 && status < 500, path + ": " + answer[0] + " " + answer[1]);
      JsonObject json = new JsonObject(answer[1]);
      String code = json.containsKey("errors") ? json.getJsonArray("errors").getJsonObject(0).getString("code")
          : json.getJsonObject("error").getString("code");
      TRIED.add("POST " + path + " (query/path) → " + status + " " + code);
    }
  }

  /** One HTTP/1.1 request over a plain socket: {status, body}. */
  private static String[] raw(String requestLine, String contentType, byte[] body) throws Exception {
    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout((int) ANSWER_TIMEOUT.toMillis());
      OutputStream out = socket.getOutputStream();
      String head = requestLine + " HTTP/1.1\r\nHost: 127.0.0.1:" + server.port() + "\r\nContent-Type: " + contentType
          + "\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
      out.write(head.getBytes(StandardCharsets.US_ASCII));
      out.write(body);
      out.flush();
      String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int headEnd = answer.indexOf("\r\n\r\n");
      assertTrue(headEnd > 0, "an answer: " + answer);
      return new String[] {answer.split(" ")[1], answer.substring(headEnd + 4)};
    }
  }

  private static byte[] zip(List<Object[]> entries) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(out)) {
      for (Object[] e : entries) {
        ZipEntry entry = new ZipEntry((String) e[0]);
        byte[] data = (byte[]) e[1];
        if (e.length > 2) {
          // stored: the local header declares the size
          entry.setMethod(ZipEntry.STORED);
          entry.setSize(data.length);
          CRC32 crc = new CRC32();
          crc.update(data);
          entry.setCrc(crc.getValue());
        }
        z.putNextEntry(entry);
        z.write(data);
        z.closeEntry();
      }
    }
    return out.toByteArray();
  }

  private static HttpResponse<byte[]> postZip(byte[] zip) throws Exception {
    return server.postMultipart("/api/v1/jobs", "image", "photos.zip", "application/zip", zip);
  }

  private static long staged() throws Exception {
    Path incoming = outputs.resolve(".incoming");
    if (!Files.isDirectory(incoming)) {
      return 0;
    }
    try (Stream<Path> s = Files.list(incoming)) {
      return s.count();
    }
  }

  @Test
  void zipEntryNamesWithControlCharactersAreRefused() throws Exception {
    for (String name : List.of("a\r\nb.png", "evil\n.png", "dir\r/x.png", "bell\u0007.png", "notes\r\n.txt")) {
      byte[] zip = zip(List.<Object[]>of(new Object[] {"ok.png", MatteApiTestAccess.png(20)},
          new Object[] {name, MatteApiTestAccess.png(21)}));
      expect("zip entry named " + new JsonArray().add(name).encode(), 400, "zip_unsafe_name", postZip(zip));
    }
    assertEquals(0, staged(), "nothing of a refused zip stays staged");
  }

  @Test
  void largeEntriesAndNonImagesAreLeftOutCountedAndReported() throws Exception {
    byte[] noise = new byte[MAX_IMAGE_BYTES + 1];
    new Random(1).nextBytes(noise);
    byte[] zip = zip(List.of(new Object[] {"a.png", MatteApiTestAccess.png(20)},
        new Object[] {"big-declared.png", noise, "stored"},
        new Object[] {"notes.txt", "hello".getBytes(StandardCharsets.UTF_8)},
        new Object[] {"folder/", new byte[0]},
        new Object[] {"__MACOSX/._a.png", new byte[10]},
        new Object[] {"big-streamed.jpg", noise},
        new Object[] {"b.png", MatteApiTestAccess.png(21)}));
    HttpResponse<byte[]> r = postZip(zip);
    assertEquals(202, r.statusCode(), new String(r.body()));
    JsonObject job = new JsonObject(new String(r.body()));
    assertEquals(List.of("a.png", "b.png"), job.getJsonArray("items").stream()
        .map(i -> ((JsonObject) i).getString("name")).toList());
    assertEquals(3, job.getInteger("skipped"), "folders and macOS metadata are not counted");
    assertEquals(new JsonArray().add(new JsonObject().put("name", "big-declared.png").put("code", "image_too_large"))
        .add(new JsonObject().put("name", "notes.txt").put("code", "unsupported_format"))
        .add(new JsonObject().put("name", "big-streamed.jpg").put("code", "image_too_large")),
        job.getJsonArray("skippedEntries"));
    JsonObject again = new JsonObject(new String(server.get("/api/v1/jobs/" + job.getString("id")).body()));
    assertEquals(3, again.getInteger("skipped"), "the job keeps saying so");
    try (Stream<Path> inputs = Files.list(outputs.resolve(job.getString("id")).resolve("inputs"))) {
      assertTrue(inputs.allMatch(p -> p.toFile().length() < MAX_IMAGE_BYTES), "no oversized entry was kept");
    }
    TRIED.add("zip with a stored and a streamed entry over imaging.maxBytes, a .txt, a folder, __MACOSX → 202, "
        + "2 items, skipped=3");

    byte[] nothing = zip(List.<Object[]>of(new Object[] {"big.png", noise}, new Object[] {"x.txt", new byte[3]}));
    expect("zip with only an oversized image and a .txt", 400, "missing_image", postZip(nothing));

    // a bomb in an entry that is left out is still inflated, so it still counts
    byte[] bomb = zip(List.<Object[]>of(new Object[] {"a.png", MatteApiTestAccess.png(20)},
        new Object[] {"zeros.txt", new byte[MAX_ZIP_BYTES + 1]}));
    assertTrue(bomb.length < MAX_ZIP_BYTES / 100, "a small zip: " + bomb.length);
    expect("zip of " + bomb.length + " bytes whose .txt inflates past jobs.maxZipBytes", 413, "zip_too_large",
        postZip(bomb));
    assertEquals(0, staged(), "nothing of a refused zip stays staged");
  }
}
