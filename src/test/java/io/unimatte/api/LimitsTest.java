package io.unimatte.api;

import io.unimatte.testing.TestServer;
import io.unimatte.testing.TinyModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Oversized and malformed requests get their own codes, and the server goes on serving. */
class LimitsTest {
  @TempDir
  Path models;

  @Test
  void oversizedAndMalformedUploads() throws Exception {
    TinyModel.write(models, "tiny");
    try (TestServer server = TestServer.start(models, "tiny", null,
        cfg -> cfg.getJsonObject("server").put("maxRequestBytes", 50_000))) {
      HttpResponse<byte[]> big = server.postRaw("/api/v1/matte", "image/png", new byte[60_000]);
      assertEquals(413, big.statusCode());
      assertEquals("payload_too_large", MatteApiTest.error(big).getString("code"));
      HttpResponse<byte[]> bigForm = server.postMultipart("/api/v1/matte", "image", "x.png", "image/png", new byte[60_000]);
      assertEquals(413, bigForm.statusCode());

      HttpResponse<byte[]> truncated = server.postRaw("/api/v1/matte", "multipart/form-data; boundary=XYZ",
          "--XYZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\r\nabc".getBytes());
      assertEquals(400, truncated.statusCode());
      assertEquals("invalid_multipart", MatteApiTest.error(truncated).getString("code"));
      HttpResponse<byte[]> noBoundary = server.postRaw("/api/v1/matte", "multipart/form-data", "x".getBytes());
      assertEquals("invalid_multipart", MatteApiTest.error(noBoundary).getString("code"));

      HttpResponse<byte[]> ok = server.postMultipart("/api/v1/matte", "image", "b.png", "image/png",
          MatteApiTest.encode(MatteApiTest.bands(), "png"));
      assertEquals(200, ok.statusCode(), "still serving");
    }
  }
}
