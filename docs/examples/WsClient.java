// Tiny Unimatte WebSocket client, no dependencies (Java 17+):
//   java docs/examples/WsClient.java ws://localhost:8080/api/v1/ws photo1.jpg photo2.png
// Submits the photos as one job, prints progress, and writes each cutout as <name>.cutout.png.
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class WsClient {
  public static void main(String[] args) throws Exception {
    StringBuilder images = new StringBuilder();
    for (int i = 1; i < args.length; i++) {
      Path p = Path.of(args[i]);
      images.append(i > 1 ? "," : "").append("{\"name\":\"").append(p.getFileName())
          .append("\",\"data\":\"").append(Base64.getEncoder().encodeToString(Files.readAllBytes(p))).append("\"}");
    }
    CompletableFuture<Void> finished = new CompletableFuture<>();
    WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(URI.create(args[0]),
        new WebSocket.Listener() {
          final StringBuilder buf = new StringBuilder();

          @Override
          public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            buf.append(data);
            if (last) {
              handle(buf.toString());
              buf.setLength(0);
            }
            socket.request(1);
            return null;
          }

          void handle(String msg) {
            String type = field(msg, "type");
            switch (type) {
              case "result" -> {
                String name = field(msg, "name");
                try {
                  Files.write(Path.of(name + ".cutout.png"), Base64.getDecoder().decode(field(msg, "data")));
                } catch (Exception e) {
                  throw new RuntimeException(e);
                }
                System.out.println("result  " + name + " -> " + name + ".cutout.png");
              }
              case "job_done" -> {
                System.out.println("job done: " + msg);
                finished.complete(null);
              }
              case "progress" -> System.out.println("progress item " + num(msg, "index") + ": " + field(msg, "stage"));
              default -> System.out.println(type + ": " + (msg.length() > 200 ? msg.substring(0, 200) + "…" : msg));
            }
          }
        }).join();
    ws.sendText("{\"type\":\"submit\",\"ref\":\"1\",\"output\":\"rgba\",\"images\":[" + images + "]}", true);
    finished.join();
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
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
