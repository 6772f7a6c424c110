package io.unimatte.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;

/** multipart/form-data bodies for tests (like {@code curl -F image=@a.png -F image=@b.png}). */
public final class Multiparts {
  private Multiparts() {
  }

  /** A body and the Content-Type that names its boundary. */
  public record Body(byte[] bytes, String contentType) {
  }

  /** One file part. */
  public record FilePart(String field, String filename, String contentType, byte[] data) {
  }

  /** {@code images} as fields named {@code image}, files {@code img0.png}, {@code img1.png}, … */
  public static Body images(List<byte[]> images) {
    return of(java.util.stream.IntStream.range(0, images.size())
        .mapToObj(i -> new FilePart("image", "img" + i + ".png", "image/png", images.get(i))).toList());
  }

  /** The given parts, in order. */
  public static Body of(List<FilePart> parts) {
    String boundary = "b" + UUID.randomUUID();
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (FilePart p : parts) {
      body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + p.field() + "\"; filename=\""
          + p.filename() + "\"\r\nContent-Type: " + p.contentType() + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
      body.writeBytes(p.data());
      body.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
    }
    body.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
    return new Body(body.toByteArray(), "multipart/form-data; boundary=" + boundary);
  }
}
