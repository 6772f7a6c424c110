package io.unimatte.api;

import io.unimatte.imaging.output.OutputOptions;
import io.unimatte.inference.ModelCatalog;
import io.unimatte.service.MatteException;
import io.unimatte.service.MatteRequest;
import io.unimatte.service.MatteResult;
import io.unimatte.service.MattingService;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * {@code POST /v1.0/removebg}, compatible with remove.bg's public API for the parameters we
 * support, so existing clients only change the host: inputs {@code image_file} (multipart),
 * {@code image_file_b64}, {@code image_url}; {@code size}, {@code type}, {@code format}
 * (auto/png/jpg/zip), {@code channels} (rgba/alpha), {@code bg_color}, {@code crop},
 * {@code crop_margin}. Parameters may come as multipart fields, a urlencoded form, JSON or the
 * query string. {@code X-Api-Key} is accepted. Errors are {@code {"errors":[{"title","code"}]}}.
 */
final class RemoveBgApi {
  /** remove.bg's size names → upper bound in pixels (0 = full resolution). */
  private static final Map<String, Long> SIZE_PIXELS = Map.of("preview", 250_000L, "small", 250_000L,
      "regular", 250_000L, "medium", 1_500_000L, "hd", 4_000_000L, "full", 0L, "4k", 0L, "auto", 0L);
  private static final String DEFAULT_SIZE = "preview";

  private final MattingService service;
  private final UrlFetcher urls;
  private final ModelCatalog models;

  private RemoveBgApi(MattingService service, UrlFetcher urls, ModelCatalog models) {
    this.service = service;
    this.urls = urls;
    this.models = models;
  }

  static void mount(Router router, BodyCollector body, MattingService service, UrlFetcher urls, ModelCatalog models) {
    RemoveBgApi api = new RemoveBgApi(service, urls, models);
    router.post("/v1.0/removebg").handler(body).handler(api::handle);
  }

  private static void error(RoutingContext ctx, String code, String title, long retryAfter) {
    int status = ApiErrors.status(code);
    if (retryAfter > 0) {
      ctx.response().putHeader("Retry-After", Long.toString(retryAfter));
    }
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("errors", new JsonArray().add(new JsonObject().put("title", title)
            .put("code", code))).encode());
  }

  private void handle(RoutingContext ctx) {
    Map<String, String> p = new HashMap<>();
    byte[][] file = new byte[1][];
    // parsing a large multipart body is worker-pool work
    ctx.vertx().executeBlocking(() -> {
      collect(ctx, p, file);
      return null;
    }, false).onSuccess(v -> handle(ctx, p, file[0])).onFailure(err -> {
      if (err instanceof MatteException e) {
        error(ctx, e.code(), e.getMessage(), 0);
      } else {
        error(ctx, "internal_error", "unexpected error", 0);
      }
    });
  }

  private void handle(RoutingContext ctx, Map<String, String> p, byte[] uploaded) {
    String format = p.getOrDefault("format", "auto").toLowerCase(Locale.ROOT);
    String channels = p.getOrDefault("channels", "rgba").toLowerCase(Locale.ROOT);
    String type = p.getOrDefault("type", "auto").toLowerCase(Locale.ROOT);
    OutputOptions options;
    String model;
    try {
      // type=person goes to the portrait model when one is served; model= still wins when given
      model = ModelsApi.resolve(p.get("model") != null ? p.get("model")
          : type.equals("person") ? models.personModel().orElse(null) : null, models);
      if (p.containsKey("bg_image_url") || p.containsKey("bg_image_file")) {
        throw new MatteException("unsupported_parameter", "bg_image_url / bg_image_file are not supported; use bg_color");
      }
      if (!channels.equals("rgba") && !channels.equals("alpha")) {
        throw new MatteException("invalid_parameter", "channels must be rgba or alpha");
      }
      String size = p.getOrDefault("size", DEFAULT_SIZE).toLowerCase(Locale.ROOT);
      if (!SIZE_PIXELS.containsKey(size)) {
        throw new MatteException("invalid_parameter", "size must be one of " + SIZE_PIXELS.keySet());
      }
      Integer bg = p.get("bg_color") == null || p.get("bg_color").isBlank() ? null
          : OutputOptions.parseColor("bg_color", p.get("bg_color"));
      boolean opaqueBg = bg != null && (bg >>> 24) == 0xFF;
      String fileFormat = switch (format) {
        case "auto" -> opaqueBg && channels.equals("rgba") ? "jpg" : "png";
        case "png", "jpg" -> format;
        case "jpeg" -> "jpg";
        case "zip" -> "jpg";
        default -> throw new MatteException("invalid_parameter", "format must be auto, png, jpg or zip");
      };
      Map<String, String> o = new HashMap<>();
      o.put("output", channels.equals("alpha") && !format.equals("zip") ? "alpha" : "rgba");
      o.put("format", fileFormat);
      if (format.equals("zip")) {
        o.put("bg", "00000000"); // color.jpg keeps the subject's own colours
      } else if (bg != null) {
        o.put("bg", String.format("%08x", (bg << 8) | (bg >>> 24)));
      }
      o.put("crop", p.getOrDefault("crop", "false"));
      if (p.get("crop_margin") != null) {
        o.put("crop_margin", p.get("crop_margin"));
      }
      OutputOptions parsed = OutputOptions.parse(o);
      options = new OutputOptions(parsed.matteOnly(), parsed.format(), parsed.background(), parsed.crop(),
          parsed.cropMargin(), parsed.cropMarginPercent(), SIZE_PIXELS.get(size), 0, 0, parsed.jpegQuality());
    } catch (OutputOptions.InvalidOptionException e) {
      error(ctx, e.code(), e.getMessage(), 0);
      return;
    } catch (MatteException e) {
      error(ctx, e.code(), e.getMessage(), 0);
      return;
    }
    boolean zip = format.equals("zip");
    String jobId = UUID.randomUUID().toString();
    input(p, uploaded)
        .compose(bytes -> service.matte(new MatteRequest(jobId, 0, bytes, options, zip, model)))
        .onSuccess(res -> reply(ctx, res, zip, type.equals("auto") ? "other" : type))
        .onFailure(err -> {
          if (err instanceof MatteException me) {
            error(ctx, me.code(), me.getMessage(), me.retryAfterSecs());
          } else {
            error(ctx, "internal_error", "unexpected error", 0);
          }
        });
  }

  private Future<byte[]> input(Map<String, String> p, byte[] file) {
    if (file != null) {
      return Future.succeededFuture(file);
    }
    if (p.get("image_file_b64") != null) {
      try {
        return Future.succeededFuture(Base64.getMimeDecoder().decode(p.get("image_file_b64")));
      } catch (IllegalArgumentException e) {
        return Future.failedFuture(new MatteException("invalid_base64", "image_file_b64 is not valid base64"));
      }
    }
    if (p.get("image_url") != null) {
      return urls.fetch(p.get("image_url"));
    }
    return Future.failedFuture(new MatteException("missing_image",
        "no image given: send image_file, image_file_b64 or image_url"));
  }

  private static void collect(RoutingContext ctx, Map<String, String> p, byte[][] file) {
    ctx.queryParams().forEach(e -> p.putIfAbsent(e.getKey(), e.getValue()));
    String type = ctx.request().getHeader("Content-Type");
    String media = type == null ? "" : type.toLowerCase(Locale.ROOT).split(";")[0].trim();
    byte[] body = ctx.<Buffer>get(BodyCollector.KEY).getBytes();
    switch (media) {
      case "multipart/form-data" -> {
        for (Multipart.Part part : Multipart.parse(body, Multipart.boundary(type))) {
          if ("image_file".equals(part.name())) {
            file[0] = part.data();
          } else if (part.name() != null) {
            p.put(part.name(), part.text());
          }
        }
      }
      case "application/x-www-form-urlencoded" -> {
        for (String pair : new String(body, StandardCharsets.US_ASCII).split("&")) {
          int eq = pair.indexOf('=');
          if (eq > 0) {
            p.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
          }
        }
      }
      case "application/json" -> {
        JsonObject json;
        try {
          json = new JsonObject(Buffer.buffer(body));
        } catch (RuntimeException e) {
          throw new MatteException("invalid_json", "the body is not a JSON object");
        }
        json.forEach(e -> p.put(e.getKey(), String.valueOf(e.getValue())));
      }
      case "" -> { }
      default -> throw new MatteException("unsupported_media_type",
          "send multipart/form-data, application/x-www-form-urlencoded or application/json");
    }
  }

  private void reply(RoutingContext ctx, MatteResult res, boolean zip, String type) {
    byte[] bytes = res.bytes();
    String contentType = res.contentType();
    if (zip) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (ZipOutputStream z = new ZipOutputStream(out)) {
        z.putNextEntry(new ZipEntry("color.jpg"));
        z.write(res.bytes());
        z.closeEntry();
        z.putNextEntry(new ZipEntry("alpha.png"));
        z.write(res.matteBytes());
        z.closeEntry();
      } catch (IOException e) {
        error(ctx, "internal_error", "could not build the zip", 0);
        return;
      }
      bytes = out.toByteArray();
      contentType = "application/zip";
    }
    ctx.response().putHeader("X-Width", Integer.toString(res.width()))
        .putHeader("X-Height", Integer.toString(res.height()))
        .putHeader("X-Type", type)
        .putHeader("X-Credits-Charged", "0")
        .putHeader("X-Model", res.model());
    String accept = ctx.request().getHeader("Accept");
    if (accept != null && accept.toLowerCase(Locale.ROOT).contains("application/json")) {
      ctx.response().putHeader("Content-Type", "application/json").end(new JsonObject().put("data",
          new JsonObject().put("result_b64", Base64.getEncoder().encodeToString(bytes))).encode());
    } else {
      ctx.response().putHeader("Content-Type", contentType).end(Buffer.buffer(bytes));
    }
  }
}
