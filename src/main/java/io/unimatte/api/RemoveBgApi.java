package io.unimatte.api;

import io.unimatte.error.CodedException;
import io.unimatte.error.ErrorCode;
import io.unimatte.imaging.output.OutputOptions;
import io.unimatte.inference.ModelCatalog;
import io.unimatte.service.MatteRequest;
import io.unimatte.service.MatteResult;
import io.unimatte.service.MattingService;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
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
  private final ImageInput input;
  private final ModelCatalog models;

  private RemoveBgApi(MattingService service, ImageInput input, ModelCatalog models) {
    this.service = service;
    this.input = input;
    this.models = models;
  }

  static void mount(Router router, BodyCollector body, MattingService service, ImageInput input, ModelCatalog models) {
    RemoveBgApi api = new RemoveBgApi(service, input, models);
    router.post("/v1.0/removebg")
        .handler(body.admitting(ctx -> service.refusal(api.requestedModel(ctx)), RemoveBgApi::error))
        .handler(api::handle);
  }

  /** The model the query string asks for ({@code model=}, or the portrait model for {@code type=person}). */
  private String requestedModel(RoutingContext ctx) {
    String model = ctx.request().getParam("model");
    if (model == null && "person".equalsIgnoreCase(ctx.request().getParam("type"))) {
      return models.personModel().orElse(null);
    }
    return model == null ? null : MatteApi.queryModel(ctx, models);
  }

  static void error(RoutingContext ctx, ErrorCode code, String title, long retryAfter) {
    if (ctx.response().ended()) {
      return;
    }
    int status = code.status();
    if (retryAfter > 0) {
      ctx.response().putHeader("Retry-After", Long.toString(retryAfter));
    }
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("errors", new JsonArray().add(new JsonObject().put("title", title)
            .put("code", code.code()))).encode());
  }

  private void handle(RoutingContext ctx) {
    input.form(ctx, ImageInput.REMOVE_BG).onSuccess(form -> handle(ctx, form))
        .onFailure(err -> error(ctx, err));
  }

  private static void error(RoutingContext ctx, Throwable err) {
    if (err instanceof CodedException e) {
      error(ctx, e.error(), e.getMessage(), e.retryAfterSecs());
    } else {
      error(ctx, ErrorCode.INTERNAL_ERROR, ErrorCode.INTERNAL_ERROR.defaultMessage(), 0);
    }
  }

  private void handle(RoutingContext ctx, ImageInput.Form form) {
    Map<String, String> p = form.params();
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
        throw new CodedException(ErrorCode.UNSUPPORTED_PARAMETER, "bg_image_url / bg_image_file are not supported; use bg_color");
      }
      if (!channels.equals("rgba") && !channels.equals("alpha")) {
        throw new CodedException(ErrorCode.INVALID_PARAMETER, "channels must be rgba or alpha");
      }
      String size = p.getOrDefault("size", DEFAULT_SIZE).toLowerCase(Locale.ROOT);
      if (!SIZE_PIXELS.containsKey(size)) {
        throw new CodedException(ErrorCode.INVALID_PARAMETER, "size must be one of " + SIZE_PIXELS.keySet());
      }
      Integer bg = p.get("bg_color") == null || p.get("bg_color").isBlank() ? null
          : OutputOptions.parseColor("bg_color", p.get("bg_color"));
      boolean opaqueBg = bg != null && (bg >>> 24) == 0xFF;
      String fileFormat = switch (format) {
        case "auto" -> opaqueBg && channels.equals("rgba") ? "jpg" : "png";
        case "png", "jpg" -> format;
        case "jpeg" -> "jpg";
        case "zip" -> "jpg";
        default -> throw new CodedException(ErrorCode.INVALID_PARAMETER, "format must be auto, png, jpg or zip");
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
    } catch (CodedException e) {
      error(ctx, e.error(), e.getMessage(), 0);
      return;
    }
    boolean zip = format.equals("zip");
    String jobId = UUID.randomUUID().toString();
    input.image(form, ImageInput.REMOVE_BG)
        .compose(bytes -> service.matte(new MatteRequest(jobId, 0, bytes, options, zip, model)))
        .onSuccess(res -> reply(ctx, res, zip, type.equals("auto") ? "other" : type))
        .onFailure(err -> error(ctx, err));
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
        error(ctx, ErrorCode.INTERNAL_ERROR, "could not build the zip", 0);
        return;
      }
      bytes = out.toByteArray();
      contentType = "application/zip";
    }
    ctx.response().putHeader("X-Width", Integer.toString(res.width()))
        .putHeader("X-Height", Integer.toString(res.height()))
        .putHeader("X-Type", type)
        .putHeader("X-Credits-Charged", "0")
        .putHeader("X-Cache", res.cacheHit() ? "hit" : "miss")
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
