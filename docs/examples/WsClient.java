// Tiny Unimatte WebSocket client (API unimatte-ws/1.1), no dependencies (Java 17+):
//   java docs/examples/WsClient.java ws://localhost:8080/api/v1/ws photo1.jpg photo2.png
// Submits the photos as one job, prints progress, and writes each cutout as <name>.cutout.png
// (or .jpg). Results come as binary frames (see docs/websocket.md, "Binary result frames").
// Exits 0 when the job is done, 1 on an error message, a close, or a job with failed images.
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class WsClient {
  /** Bytes before the image in a binary result: job id (16) and item index (4). */
  static final int BINARY_HEADER_BYTES = 20;

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: java WsClient.java ws://HOST:8080/api/v1/ws photo1.jpg [photo2.png …]");
      System.exit(2);
    }
    StringBuilder images = new StringBuilder();
    for (int i = 1; i < args.length; i++) {
      Path p = Path.of(args[i]);
      images.append(i > 1 ? "," : "").append("{\"name\":\"").append(p.getFileName().toString().replace("\"", "_"))
          .append("\",\"data\":\"").append(Base64.getEncoder().encodeToString(Files.readAllBytes(p))).append("\"}");
    }
    // completes with the exit status: 0 all done, 1 anything else
    CompletableFuture<Integer> finished = new CompletableFuture<>();
    WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(URI.create(args[0]),
        new WebSocket.Listener() {
          final StringBuilder text = new StringBuilder();
          final ByteArrayOutputStream binary = new ByteArrayOutputStream();
          /** The file name announced by the last binary result header. */
          String nextFile;

          @Override
          public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
              handle(text.toString());
              text.setLength(0);
            }
            socket.request(1);
            return null;
          }

          @Override
          public CompletionStage<?> onBinary(WebSocket socket, ByteBuffer data, boolean last) {
            byte[] chunk = new byte[data.remaining()];
            data.get(chunk);
            binary.writeBytes(chunk);
            if (last) {
              byte[] frame = binary.toByteArray();
              binary.reset();
              try {
                Files.write(Path.of(nextFile), java.util.Arrays.copyOfRange(frame, BINARY_HEADER_BYTES, frame.length));
                System.out.println("result  -> " + nextFile);
              } catch (Exception e) {
                System.err.println("cannot write " + nextFile + ": " + e);
                finished.complete(1);
              }
            }
            socket.request(1);
            return null;
          }

          @Override
          public CompletionStage<?> onClose(WebSocket socket, int status, String reason) {
            System.err.println("closed by the server: " + status + " " + reason);
            finished.complete(1);
            return null;
          }

          @Override
          public void onError(WebSocket socket, Throwable error) {
            System.err.println("connection failed: " + error);
            finished.complete(1);
          }

          void handle(String msg) {
            switch (field(msg, "type")) {
              case "result" -> {
                String ext = field(msg, "contentType").endsWith("jpeg") ? ".jpg" : ".png";
                nextFile = field(msg, "name").replaceAll("\\.[^.]*$", "") + ".cutout" + ext;
              }
              case "job_done" -> {
                System.out.println("job done: " + msg);
                finished.complete("0".equals(num(msg, "failed")) ? 0 : 1);
              }
              case "error" -> {
                // the request was refused: nothing more will come for it
                System.err.println("error " + field(msg, "code") + ": " + field(msg, "message")
                    + ("?".equals(num(msg, "retryAfter")) ? "" : " (retry in " + num(msg, "retryAfter") + " s)"));
                finished.complete(1);
              }
              case "progress" -> System.out.println("progress item " + num(msg, "index") + ": " + field(msg, "stage"));
              case "item" -> {
                if (msg.contains("\"stage\":\"failed\"")) {
                  System.out.println("failed  item " + num(msg, "index") + ": " + field(msg, "code") + " " + field(msg, "message"));
                }
              }
              default -> System.out.println(field(msg, "type") + ": " + (msg.length() > 200 ? msg.substring(0, 200) + "…" : msg));
            }
          }
        }).join();
    ws.sendText("{\"type\":\"submit\",\"ref\":\"1\",\"output\":\"rgba\",\"resultFrames\":\"binary\",\"images\":["
        + images + "]}", true);
    int status = finished.join();
    if (!ws.isOutputClosed()) {
      ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
    }
    System.exit(status);
  }

  static String field(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\":\"([^\"]*)\"").matcher(json);
    return m.find() ? m.group(1) : "";
  }

  static String num(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\":(\\d+)").matcher(json);
    return m.find() ? m.group(1) : "?";
  }
}
