package io.unimatte.testing;

import io.vertx.core.json.JsonObject;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * A client of the WebSocket API ({@code /api/v1/ws}) that collects the JSON messages it receives; a
 * binary message is queued in order as {@code {"type":"binary","data":<bytes>}} ({@link JsonObject#getBinary}).
 */
public final class WsClient implements WebSocket.Listener {
  /** How long {@link #next()} waits for a message. */
  public static final int DEFAULT_WAIT_SECONDS = 30;

  private final BlockingQueue<JsonObject> messages = new LinkedBlockingQueue<>();
  private final StringBuilder partial = new StringBuilder();
  private final ByteArrayOutputStream partialBinary = new ByteArrayOutputStream();
  /** The server's close frame: {@code {code, reason}}. */
  public final CompletableFuture<JsonObject> closed = new CompletableFuture<>();
  /** The server's {@code hello}. */
  public JsonObject hello;
  private volatile boolean holding;
  /** The socket, for raw frames and closing. */
  public WebSocket ws;

  private WsClient() {
  }

  /** Connects to a test server and reads its {@code hello}. */
  public static WsClient connect(TestServer server) throws Exception {
    return connect(server.port(), DEFAULT_WAIT_SECONDS);
  }

  /** Connects to port {@code port} on loopback and reads the {@code hello}, waiting at most {@code helloSeconds}. */
  public static WsClient connect(int port, int helloSeconds) throws Exception {
    return connect(port, "", helloSeconds);
  }

  /** Connects to a test server with an API key ({@code ?api_key=}, as browsers do) and reads its {@code hello}. */
  public static WsClient connect(TestServer server, String apiKey) throws Exception {
    String query = "?api_key=" + java.net.URLEncoder.encode(apiKey, java.nio.charset.StandardCharsets.UTF_8);
    return connect(server.port(), query, DEFAULT_WAIT_SECONDS);
  }

  private static WsClient connect(int port, String query, int helloSeconds) throws Exception {
    WsClient c = new WsClient();
    c.ws = HttpClient.newHttpClient().newWebSocketBuilder()
        .buildAsync(URI.create("ws://127.0.0.1:" + port + "/api/v1/ws" + query), c).get(10, TimeUnit.SECONDS);
    c.hello = c.next(helloSeconds);
    assertEquals("hello", c.hello.getString("type"));
    return c;
  }

  @Override
  public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
    byte[] chunk = new byte[data.remaining()];
    data.get(chunk);
    partialBinary.writeBytes(chunk);
    if (last) {
      messages.add(new JsonObject().put("type", "binary").put("data", partialBinary.toByteArray()));
      partialBinary.reset();
    }
    if (!holding) {
      webSocket.request(1);
    }
    return null;
  }

  @Override
  public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
    closed.complete(new JsonObject().put("code", statusCode).put("reason", reason));
    return null;
  }

  @Override
  public void onError(WebSocket webSocket, Throwable error) {
    closed.complete(new JsonObject().put("code", 1006).put("reason", String.valueOf(error)));
  }

  @Override
  public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
    partial.append(data);
    if (last) {
      messages.add(new JsonObject(partial.toString()));
      partial.setLength(0);
    }
    if (!holding) {
      webSocket.request(1);
    }
    return null;
  }

  /** Stops reading after the message being read: what the server sends piles up, as for a slow client. */
  public void hold() {
    holding = true;
  }

  /** Reads again. */
  public void release() {
    holding = false;
    ws.request(1);
  }

  /** The next message, failing the test when none comes within {@link #DEFAULT_WAIT_SECONDS}. */
  public JsonObject next() throws InterruptedException {
    return next(DEFAULT_WAIT_SECONDS);
  }

  /** The next message, failing the test when none comes within {@code seconds}. */
  public JsonObject next(int seconds) throws InterruptedException {
    JsonObject m = messages.poll(seconds, TimeUnit.SECONDS);
    assertNotNull(m, "no WebSocket message within " + seconds + " s");
    return m;
  }

  /** Sends one JSON message. */
  public void send(JsonObject msg) {
    ws.sendText(msg.encode(), true).join();
  }

  /** The next message of type {@code type}, skipping others (progress and the like). */
  public JsonObject nextOf(String type) throws InterruptedException {
    JsonObject m;
    do {
      m = next();
    } while (!type.equals(m.getString("type")));
    return m;
  }

  /** The next message if one comes within {@code millis}, else null. */
  public JsonObject poll(long millis) throws InterruptedException {
    return messages.poll(millis, TimeUnit.MILLISECONDS);
  }
}
