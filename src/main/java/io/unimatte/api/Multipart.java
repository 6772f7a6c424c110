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
 * files, and leaves no files to clean up. Every search is linear in the body (Knuth-Morris-Pratt),
 * whatever the bytes: a hostile body cannot make it quadratic.
 */
final class Multipart {
  /** RFC 2046, 5.1.1: a boundary has 1 to 70 characters. */
  static final int MAX_BOUNDARY_LENGTH = 70;
  private static final byte[] CRLF = {'\r', '\n'};
  private static final byte[] HEADER_END = {'\r', '\n', '\r', '\n'};
  private static final int[] HEADER_END_TABLE = table(HEADER_END);

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
    if (boundary.length() > MAX_BOUNDARY_LENGTH) {
      throw new CodedException(ErrorCode.INVALID_MULTIPART, "the multipart boundary has " + boundary.length()
          + " characters; at most " + MAX_BOUNDARY_LENGTH + " are allowed (RFC 2046)");
    }
    byte[] delimiter = ("--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
    byte[] separator = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
    int[] separatorTable = table(separator);
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
      int headersEnd = indexOf(body, HEADER_END, HEADER_END_TABLE, pos);
      if (headersEnd < 0) {
        throw new CodedException(ErrorCode.INVALID_MULTIPART, "a multipart part has no end of headers");
      }
      String headers = new String(body, pos, headersEnd - pos, StandardCharsets.UTF_8);
      int dataStart = headersEnd + HEADER_END.length;
      int dataEnd = indexOf(body, separator, separatorTable, dataStart);
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

  /** The first index of {@code needle} in {@code hay} at or after {@code from}, or -1; linear time. */
  static int indexOf(byte[] hay, byte[] needle, int from) {
    return indexOf(hay, needle, table(needle), from);
  }

  /**
   * Knuth-Morris-Pratt: each byte of {@code hay} is looked at a bounded number of times, so the search
   * is linear however much of the needle the body repeats (a body of dashes against a boundary of dashes
   * was quadratic with the naive search).
   *
   * @param table {@link #table} of {@code needle}
   */
  static int indexOf(byte[] hay, byte[] needle, int[] table, int from) {
    int matched = 0;
    for (int i = Math.max(0, from); i < hay.length; i++) {
      while (matched > 0 && hay[i] != needle[matched]) {
        matched = table[matched - 1];
      }
      if (hay[i] == needle[matched]) {
        matched++;
        if (matched == needle.length) {
          return i - needle.length + 1;
        }
      }
    }
    return -1;
  }

  /** For each prefix of {@code needle}: the length of its longest proper prefix that is also its suffix. */
  static int[] table(byte[] needle) {
    int[] t = new int[needle.length];
    int k = 0;
    for (int i = 1; i < needle.length; i++) {
      while (k > 0 && needle[i] != needle[k]) {
        k = t[k - 1];
      }
      if (needle[i] == needle[k]) {
        k++;
      }
      t[i] = k;
    }
    return t;
  }
}
