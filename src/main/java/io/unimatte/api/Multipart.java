package io.unimatte.api;

import io.unimatte.error.CodedException;
import io.unimatte.error.ErrorCode;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A small multipart/form-data parser over a body held in memory. Uploads here are images of a
 * few megabytes: parsing them in memory is several times faster than spooling them through temp
 * files, and leaves no files to clean up.
 */
final class Multipart {
  private static final byte[] CRLF = {'\r', '\n'};
  private static final byte[] HEADER_END = {'\r', '\n', '\r', '\n'};

  /** One part: a file ({@code filename} set) or a plain field. */
  record Part(String name, String filename, String contentType, byte[] data) {
    String text() {
      return new String(data, StandardCharsets.UTF_8);
    }
  }

  private Multipart() {
  }

  /** The boundary parameter of a multipart content type, or null. */
  static String boundary(String contentType) {
    if (contentType == null) {
      return null;
    }
    for (String param : contentType.split(";")) {
      String p = param.trim();
      if (p.toLowerCase(Locale.ROOT).startsWith("boundary=")) {
        String b = p.substring("boundary=".length()).trim();
        return b.startsWith("\"") && b.endsWith("\"") && b.length() > 1 ? b.substring(1, b.length() - 1) : b;
      }
    }
    return null;
  }

  /** All parts, in order; a malformed body fails with {@code invalid_multipart}. */
  static List<Part> parse(byte[] body, String boundary) {
    if (boundary == null || boundary.isEmpty()) {
      throw new CodedException(ErrorCode.INVALID_MULTIPART, "multipart/form-data without a boundary");
    }
    byte[] delimiter = ("--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
    byte[] separator = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
    List<Part> parts = new ArrayList<>();
    int pos = indexOf(body, delimiter, 0);
    if (pos < 0) {
      throw new CodedException(ErrorCode.INVALID_MULTIPART, "the multipart body has no part");
    }
    pos += delimiter.length;
    while (true) {
      if (pos + 2 <= body.length && body[pos] == '-' && body[pos + 1] == '-') {
        return parts; // closing delimiter
      }
      if (pos + 2 > body.length || body[pos] != '\r' || body[pos + 1] != '\n') {
        throw new CodedException(ErrorCode.INVALID_MULTIPART, "malformed multipart delimiter");
      }
      pos += CRLF.length;
      int headersEnd = indexOf(body, HEADER_END, pos);
      if (headersEnd < 0) {
        throw new CodedException(ErrorCode.INVALID_MULTIPART, "a multipart part has no end of headers");
      }
      String headers = new String(body, pos, headersEnd - pos, StandardCharsets.UTF_8);
      int dataStart = headersEnd + HEADER_END.length;
      int dataEnd = indexOf(body, separator, dataStart);
      if (dataEnd < 0) {
        throw new CodedException(ErrorCode.INVALID_MULTIPART, "the multipart body ends inside a part (truncated upload?)");
      }
      String name = null;
      String filename = null;
      String type = null;
      for (String line : headers.split("\r\n")) {
        int colon = line.indexOf(':');
        if (colon < 0) {
          continue;
        }
        String key = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = line.substring(colon + 1).trim();
        if (key.equals("content-disposition")) {
          name = param(value, "name");
          filename = param(value, "filename");
        } else if (key.equals("content-type")) {
          type = value;
        }
      }
      byte[] data = new byte[dataEnd - dataStart];
      System.arraycopy(body, dataStart, data, 0, data.length);
      parts.add(new Part(name, filename, type, data));
      pos = dataEnd + separator.length;
    }
  }

  private static String param(String disposition, String key) {
    for (String p : disposition.split(";")) {
      String t = p.trim();
      int eq = t.indexOf('=');
      if (eq > 0 && t.substring(0, eq).trim().equalsIgnoreCase(key)) {
        String v = t.substring(eq + 1).trim();
        return v.length() > 1 && v.startsWith("\"") && v.endsWith("\"") ? v.substring(1, v.length() - 1) : v;
      }
    }
    return null;
  }

  static int indexOf(byte[] hay, byte[] needle, int from) {
    byte first = needle[0];
    int last = hay.length - needle.length;
    outer:
    for (int i = Math.max(0, from); i <= last; i++) {
      if (hay[i] != first) {
        continue;
      }
      for (int j = 1; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
