package io.unimatte.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * HTTP/1.1 over a plain socket, for what ordinary clients hide: interim {@code 100 Continue} answers,
 * answers that come before the body was sent, bodies that stall half-way, connections the server closes.
 */
public final class RawHttp implements AutoCloseable {
  /** How long curl waits for {@code 100 Continue} before it sends the body anyway. */
  private static final Duration CURL_EXPECT_WAIT = Duration.ofSeconds(1);
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  /** One response head and, once read, its body. */
  public record Response(int status, Map<String, String> headers, byte[] body) {
    /** A header by its lower-case name, or null. */
    public String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  private RawHttp(Socket socket) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
    this.out = socket.getOutputStream();
  }

  /** Connects to the loopback port. */
  public static RawHttp connect(int port) throws IOException {
    Socket s = new Socket("127.0.0.1", port);
    s.setTcpNoDelay(true);
    return new RawHttp(s);
  }

  /** Writes a request line and headers (Host added), then the empty line; no body. */
  public void sendHead(String method, String path, Map<String, String> headers) throws IOException {
    StringBuilder sb = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    headers.forEach((k, v) -> sb.append(k).append(": ").append(v).append("\r\n"));
    out.write(sb.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
  }

  /** Writes body bytes. */
  public void send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /** Bytes the server has sent that are not read yet (an early answer shows here). */
  public int available() throws IOException {
    return in.available();
  }

  /** Reads the next response head (an interim 100 too); fails with SocketTimeoutException after {@code timeout}. */
  public Response readHead(Duration timeout) throws IOException {
    socket.setSoTimeout((int) timeout.toMillis());
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("connection closed before a response head (read: " + head + ")");
      }
      head.write(b);
      matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
    }
    String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
    int status = Integer.parseInt(lines[0].split(" ")[1]);
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon > 0) {
        headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
      }
    }
    return new Response(status, headers, new byte[0]);
  }

  /** Reads a whole final response (skipping nothing: call it when no 100 is due) with its Content-Length body. */
  public Response readResponse(Duration timeout) throws IOException {
    Response head = readHead(timeout);
    String length = head.header("content-length");
    byte[] body = in.readNBytes(length == null ? 0 : Integer.parseInt(length));
    return new Response(head.status(), head.headers(), body);
  }

  /** Whether the server closes the connection within {@code timeout} (end of stream or reset; data is skipped). */
  public boolean closedWithin(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    byte[] skip = new byte[8192];
    while (System.nanoTime() < deadline) {
      socket.setSoTimeout((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
      try {
        if (in.read(skip) < 0) {
          return true;
        }
      } catch (SocketTimeoutException e) {
        return false;
      } catch (IOException reset) {
        return true;
      }
    }
    return false;
  }

  /**
   * POSTs {@code form} the way curl does for a body over 1 MiB: the head with {@code Expect: 100-continue},
   * the body after the server's {@code 100 Continue} (or after 1 s without an answer, as curl does), and
   * not at all when a final answer comes first. (Java's HttpClient of JDK 17 hangs when that answer is not
   * 100: JDK-8286171.)
   */
  public static Response postLikeCurl(int port, String path, Form form, Duration timeout) throws IOException {
    try (RawHttp c = connect(port)) {
      c.sendHead("POST", path, Map.of("Content-Type", form.contentType(),
          "Content-Length", Integer.toString(form.body().length), "Expect", "100-continue"));
      Response first;
      try {
        first = c.readHead(CURL_EXPECT_WAIT);
      } catch (SocketTimeoutException noAnswer) {
        first = null;
      }
      if (first != null && first.status() != 100) {
        String length = first.header("content-length");
        return new Response(first.status(), first.headers(), c.in.readNBytes(length == null ? 0 : Integer.parseInt(length)));
      }
      c.send(form.body());
      return c.readResponse(timeout);
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  /** A request body with its content type. */
  public record Form(byte[] body, String contentType) {
  }

  /** A multipart/form-data body with one PNG file field, as curl -F sends it. */
  public static Form multipart(String field, String filename, byte[] data) {
    return multipart(field, filename, "image/png", data);
  }

  /** A multipart/form-data body with one file field of the given type. */
  public static Form multipart(String field, String filename, String contentType, byte[] data) {
    String boundary = "raw" + UUID.randomUUID();
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field + "\"; filename=\""
        + filename + "\"\r\nContent-Type: " + contentType + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
    body.writeBytes(data);
    body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.ISO_8859_1));
    return new Form(body.toByteArray(), "multipart/form-data; boundary=" + boundary);
  }
}
