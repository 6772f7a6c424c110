package io.unimatte.error;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** docs/errors.md and /openapi.json list exactly the codes of {@link ErrorCode}, with the same statuses. */
class ErrorCodeDocsTest {
  private static final Pattern ROW = Pattern.compile("^\\| `([a-z0-9_]+)` \\| (\\d{3}) \\| (yes|no) \\|", Pattern.MULTILINE);

  private static List<String> enumRows() {
    return Arrays.stream(ErrorCode.values())
        .map(c -> c.code() + " " + c.status() + " " + (c.retryable() ? "yes" : "no")).toList();
  }

  @Test
  void theDocsTableIsTheEnum() throws Exception {
    Matcher m = ROW.matcher(Files.readString(Path.of("docs/errors.md")));
    List<String> documented = new ArrayList<>();
    while (m.find()) {
      documented.add(m.group(1) + " " + m.group(2) + " " + m.group(3));
    }
    assertEquals(enumRows(), documented);
  }

  @Test
  void theOpenApiEnumIsTheEnum() throws Exception {
    JsonObject api = new JsonObject(Files.readString(Path.of("webroot/openapi.json")));
    JsonArray codes = api.getJsonObject("components").getJsonObject("responses").getJsonObject("Error")
        .getJsonObject("content").getJsonObject("application/json").getJsonObject("schema")
        .getJsonObject("properties").getJsonObject("error").getJsonObject("properties").getJsonObject("code")
        .getJsonArray("enum");
    assertEquals(Arrays.stream(ErrorCode.values()).map(ErrorCode::code).toList(), codes.getList());
  }

  @Test
  void codesAreUniqueAndLookedUpByTheirWireName() {
    for (ErrorCode c : ErrorCode.values()) {
      assertEquals(c, ErrorCode.of(c.code()).orElseThrow());
      assertTrue(c.status() >= 400 && c.status() < 600, c.code());
    }
    assertEquals(ErrorCode.INTERNAL_ERROR, ErrorCode.orInternal("no_such_code"));
  }
}
