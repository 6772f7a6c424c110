package io.unimatte.api;

import io.unimatte.error.CodedException;
import io.unimatte.error.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The one reader of single images from HTTP requests, for every way in: a multipart file field, the
 * raw body with an {@code image/*} type, base64 in a form or JSON member, or a URL (fetched through
 * the SSRF-guarded {@link UrlFetcher}). Parsing runs on a worker thread, never on the event loop.
 */
final class ImageInput {
  /**
   * The parameter names a way in uses for the file, its base64 and its URL, and for the background
   * photo's file (a multipart file, or base64 as a text parameter) and URL.
   */
  record Fields(String file, String base64, String url, String bgFile, String bgUrl) {
  }

  /**
   * {@code /api/v1/matte}: {@code image}, {@code image_b64}, {@code image_url}; {@code bg_image},
   * {@code bg_image_url}.
   */
  static final Fields MATTE = new Fields("image", "image_b64", "image_url", "bg_image", "bg_image_url");
  /**
   * {@code /v1.0/removebg}: {@code image_file}, {@code image_file_b64}, {@code image_url};
   * {@code bg_image_file}, {@code bg_image_url}.
   */
  static final Fields REMOVE_BG = new Fields("image_file", "image_file_b64", "image_url", "bg_image_file",
      "bg_image_url");

  /**
   * A parsed request: its text parameters (form fields and JSON members first, then the query string),
   * the image bytes it carried directly (file field or raw body), if any, the file's name when the
   * multipart part gave one, and the background photo's bytes when it came as a multipart file.
   */
  record Form(Map<String, String> params, byte[] file, String filename, byte[] bgFile) {
  }

  private final Vertx vertx;
  private final UrlFetcher urls;

  ImageInput(Vertx vertx, UrlFetcher urls) {
    this.vertx = vertx;
    this.urls = urls;
  }

  /** Parses the collected body ({@link BodyCollector}) and the query string. */
  Future<Form> form(RoutingContext ctx, Fields fields) {
    String type = ctx.request().getHeader("Content-Type");
    byte[] body = BodyCollector.body(ctx);
    Map<String, String> query = query(ctx);
    return vertx.executeBlocking(() -> parse(type, body, query, fields), false);
  }

  /** The query string's parameters; the first value of a repeated one. */
  static Map<String, String> query(RoutingContext ctx) {
    Map<String, String> query = new HashMap<>();
    ctx.queryParams().forEach(e -> query.putIfAbsent(e.getKey(), e.getValue()));
    return query;
  }

  /** The image: the file, else the base64 parameter, else the URL parameter (fetched). */
  Future<byte[]> image(Form form, Fields fields) {
    if (form.file() != null) {
      return Future.succeededFuture(form.file());
    }
    String b64 = form.params().get(fields.base64());
    if (b64 != null) {
      // tens of megabytes of base64 take tens of milliseconds: not on the event loop
      return vertx.executeBlocking(() -> {
        try {
          return Base64.getMimeDecoder().decode(b64);
        } catch (IllegalArgumentException e) {
          throw new CodedException(ErrorCode.INVALID_BASE64, fields.base64() + " is not valid base64");
        }
      }, false);
    }
    String url = form.params().get(fields.url());
    if (url != null) {
      return urls.fetch(url);
    }
    return Future.failedFuture(new CodedException(ErrorCode.MISSING_IMAGE, "no image given: send the file as the form"
        + " field '" + fields.file() + "' (curl -F " + fields.file() + "=@photo.jpg), base64 in '" + fields.base64()
        + "' or a URL in '" + fields.url() + "'"));
  }

  /**
   * The background photo ({@code fields.bgFile()} as a multipart file or base64 text, or fetched from
   * {@code fields.bgUrl()} through the same guarded fetcher as images); null when the request has none.
   */
  Future<byte[]> background(Form form, Fields fields) {
    String b64 = form.params().get(fields.bgFile());
    String url = form.params().get(fields.bgUrl());
    boolean file = form.bgFile() != null || b64 != null && !b64.isBlank();
    if (file && url != null && !url.isBlank()) {
      return Future.failedFuture(new CodedException(ErrorCode.INVALID_PARAMETER, "give " + fields.bgFile() + " or "
          + fields.bgUrl() + ", not both"));
    }
    if (form.bgFile() != null) {
      return Future.succeededFuture(form.bgFile());
    }
    if (file) {
      try {
        return Future.succeededFuture(Base64.getMimeDecoder().decode(b64));
      } catch (IllegalArgumentException e) {
        return Future.failedFuture(new CodedException(ErrorCode.INVALID_BASE64, fields.bgFile()
            + " is neither a file upload nor valid base64"));
      }
    }
    return url == null || url.isBlank() ? Future.succeededFuture() : fetch(url, fields.bgUrl());
  }

  /** Fetches {@code url} through the SSRF guard; errors name {@code param}. */
  Future<byte[]> fetch(String url, String param) {
    return urls.fetch(url, param);
  }

  static Form parse(String type, byte[] body, Map<String, String> query, Fields fields) {
    String media = type == null ? "" : type.toLowerCase(Locale.ROOT).split(";")[0].trim();
    Map<String, String> params = new HashMap<>();
    byte[] file = null;
    String filename = null;
    byte[] bgFile = null;
    switch (media) {
      case "multipart/form-data" -> {
        boolean named = false;
        for (Multipart.Part part : Multipart.parse(body, Multipart.boundary(type))) {
          if (fields.file().equals(part.name())) {
            // a part with a file name wins over a plain field of the same name
            if (file == null || (!named && part.filename() != null)) {
              file = part.data();
              named = part.filename() != null;
              filename = part.filename();
            }
          } else if (fields.bgFile().equals(part.name()) && part.filename() != null) {
            bgFile = part.data();
          } else if (part.name() != null) {
            params.putIfAbsent(part.name(), part.text());
          }
        }
      }
      case "application/x-www-form-urlencoded" -> {
        for (String pair : new String(body, StandardCharsets.US_ASCII).split("&")) {
          int eq = pair.indexOf('=');
          if (eq > 0) {
            params.putIfAbsent(formDecode(pair.substring(0, eq)), formDecode(pair.substring(eq + 1)));
          }
        }
      }
      case "application/json" -> {
        JsonObject json;
        try {
          json = new JsonObject(Buffer.buffer(body));
        } catch (RuntimeException e) {
          throw new CodedException(ErrorCode.INVALID_JSON, "the body is not a JSON object");
        }
        json.forEach(e -> {
          if (e.getValue() != null) {
            params.putIfAbsent(e.getKey(), String.valueOf(e.getValue()));
          }
        });
      }
      case "" -> {
        if (body.length > 0 && !query.containsKey(fields.url())) {
          throw unsupported(fields, media);
        }
      }
      default -> {
        if (media.startsWith("image/") || media.equals("application/octet-stream")) {
          file = body;
        } else if (!query.containsKey(fields.url())) {
          throw unsupported(fields, media);
        }
      }
    }
    query.forEach(params::putIfAbsent);
    return new Form(params, file, filename, bgFile);
  }

  /** One name or value of a urlencoded form; a bad {@code %} escape is the client's error, not ours. */
  private static String formDecode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new CodedException(ErrorCode.INVALID_PARAMETER,
          "the form is not valid application/x-www-form-urlencoded: a '%' must be followed by two hex digits");
    }
  }

  private static CodedException unsupported(Fields fields, String media) {
    return new CodedException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "send multipart/form-data with the file in '"
        + fields.file() + "', the raw image with an image/* content type, a form or JSON with '"
        + fields.base64() + "' or '" + fields.url() + "', or ?" + fields.url() + "="
        + (media.isEmpty() ? " (no Content-Type given)" : " (got '" + media + "')"));
  }
}
