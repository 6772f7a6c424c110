package io.unimatte.api;

import io.unimatte.config.AppConfig;
import io.unimatte.error.CodedException;
import io.unimatte.error.ErrorCode;
import io.unimatte.imaging.output.Foreground;
import io.unimatte.imaging.output.OutputOptions;
import io.unimatte.inference.ModelCatalog;
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
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.logging.Logger;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * {@code POST /v1.0/removebg}, compatible with remove.bg's public API, so existing clients only change
 * the host: inputs {@code image_file} (multipart), {@code image_file_b64}, {@code image_url}; {@code size},
 * {@code type}, {@code format} (auto/png/jpg/webp/zip), {@code channels} (rgba/alpha), {@code bg_color},
 * {@code bg_image_url}, {@code bg_image_file}, {@code crop}, {@code crop_margin}, {@code roi}, {@code scale},
 * {@code position}; {@code type_level}, {@code add_shadow}, {@code semitransparency}, {@code shadow_type} and
 * {@code shadow_opacity} are accepted with no effect. Any other parameter is refused with
 * {@code unknown_parameter} naming it, unless {@code removebg.ignoreUnknownParameters}. Parameters may
 * come as multipart fields, a urlencoded form, JSON or the query string. {@code X-Api-Key} is accepted.
 * Errors are {@code {"errors":[{"title","code"}]}}. {@code GET /v1.0/account} answers remove.bg's account
 * shape, so clients that check their key first work too.
 */
final class RemoveBgApi {
  private static final Logger LOG = Logger.getLogger(RemoveBgApi.class.getName());
  /** remove.bg's size names → upper bound in pixels (0 = full resolution). */
  private static final Map<String, Long> SIZE_PIXELS = Map.of("preview", 250_000L, "small", 250_000L,
      "regular", 250_000L, "medium", 1_500_000L, "hd", 4_000_000L, "full", 0L, "4k", 0L, "auto", 0L);
  private static final String DEFAULT_SIZE = "preview";
  /** remove.bg's parameters, plus {@code model} (ours: pick a served model). */
  private static final Set<String> KNOWN = Set.of("image_file", "image_file_b64", "image_url", "size", "type",
      "type_level", "format", "roi", "crop", "crop_margin", "scale", "position", "channels", "add_shadow",
      "semitransparency", "shadow_type", "shadow_opacity", "bg_color", "bg_image_url", "bg_image_file", "model");
  /** Accepted values of the parameters that have no effect here (checked, so a typo still gets a 400). */
  private static final Set<String> TYPE_LEVELS = Set.of("none", "1", "2", "latest");
  private static final Set<String> SHADOW_TYPES = Set.of("none", "car", "3d", "drop");
  private static final int MAX_SHADOW_OPACITY = 100;
  /** What {@code GET /v1.0/account} reports as credits and free calls: nothing is ever charged. */
  private static final long UNLIMITED = 1_000_000_000L;

  private final MattingService service;
  private final ImageInput input;
  private final ModelCatalog models;
  private final boolean ignoreUnknown;

  private RemoveBgApi(MattingService service, ImageInput input, ModelCatalog models, boolean ignoreUnknown) {
    this.service = service;
    this.input = input;
    this.models = models;
    this.ignoreUnknown = ignoreUnknown;
  }

  /** @param config the {@code removebg} section of config.json */
  static void mount(Router router, BodyCollector body, MattingService service, ImageInput input, ModelCatalog models,
                    JsonObject config) {
    RemoveBgApi api = new RemoveBgApi(service, input, models,
        AppConfig.requireBoolean(config, "ignoreUnknownParameters"));
    router.post("/v1.0/removebg")
        .handler(body.admitting(ctx -> service.refusal(api.requestedModel(ctx)), RemoveBgApi::error))
        .handler(api::handle);
    router.get("/v1.0/account").handler(RemoveBgApi::account);
  }

  /** remove.bg's account answer; the large numbers say "nothing to run out of". */
  private static void account(RoutingContext ctx) {
    JsonObject credits = new JsonObject().put("total", UNLIMITED).put("subscription", UNLIMITED).put("payg", 0)
        .put("enterprise", 0);
    JsonObject api = new JsonObject().put("free_calls", UNLIMITED).put("sizes", "all");
    ctx.response().putHeader("Content-Type", "application/json").end(new JsonObject().put("data",
        new JsonObject().put("attributes", new JsonObject().put("credits", credits).put("api", api))).encode());
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
    boolean zip = format.equals("zip");
    OutputOptions parsed;
    String model;
    boolean wantsBackground;
    try {
      checkKnown(p.keySet());
      checkNoEffect(p);
      // type=person goes to the portrait model when one is served; model= still wins when given
      model = ModelsApi.resolve(p.get("model") != null ? p.get("model")
          : type.equals("person") ? models.personModel().orElse(null) : null, models);
      if (!channels.equals("rgba") && !channels.equals("alpha")) {
        throw new CodedException(ErrorCode.INVALID_PARAMETER, "channels must be rgba or alpha");
      }
      String size = p.getOrDefault("size", DEFAULT_SIZE).toLowerCase(Locale.ROOT);
      if (!SIZE_PIXELS.containsKey(size)) {
        throw new CodedException(ErrorCode.INVALID_PARAMETER, "size must be one of " + SIZE_PIXELS.keySet());
      }
      Integer bg = blank(p.get("bg_color")) ? null : OutputOptions.parseColor("bg_color", p.get("bg_color"));
      boolean bgImage = form.bgFile() != null || !blank(p.get("bg_image_file")) || !blank(p.get("bg_image_url"));
      if (bg != null && bgImage) {
        throw new CodedException(ErrorCode.INVALID_PARAMETER, "give one of bg_color, bg_image_url or bg_image_file");
      }
      boolean cutout = channels.equals("rgba") && !zip;
      wantsBackground = bgImage && cutout;
      // auto: JPEG when nothing stays transparent (a solid colour or a photo behind the cutout), else PNG
      boolean opaqueBg = wantsBackground || bg != null && (bg >>> 24) == 0xFF;
      String fileFormat = switch (format) {
        case "auto" -> opaqueBg && channels.equals("rgba") ? "jpg" : "png";
        case "png", "jpg", "webp" -> format;
        case "jpeg" -> "jpg";
        case "zip" -> "jpg";
        default -> throw new CodedException(ErrorCode.INVALID_PARAMETER, "format must be auto, png, jpg, webp or zip");
      };
      Map<String, String> o = new HashMap<>();
      o.put("output", channels.equals("alpha") && !zip ? "alpha" : "rgba");
      o.put("format", fileFormat);
      if (zip) {
        o.put("bg", "00000000"); // color.jpg keeps the subject's own colours
      } else if (bg != null) {
        o.put("bg", String.format("%08x", (bg << 8) | (bg >>> 24)));
      }
      o.put("crop", p.getOrDefault("crop", "false"));
      for (String k : List.of("crop_margin", "roi", "scale", "position")) {
        if (p.get(k) != null) {
          o.put(k, p.get(k));
        }
      }
      parsed = OutputOptions.parse(o).withMaxPixels(SIZE_PIXELS.get(size));
    } catch (CodedException e) {
      error(ctx, e.error(), e.getMessage(), 0);
      return;
    }
    String jobId = UUID.randomUUID().toString();
    Future<byte[]> background = wantsBackground ? input.background(form, ImageInput.REMOVE_BG)
        : Future.succeededFuture();
    background.map(parsed::withBackgroundImage)
        .compose(options -> input.image(form, ImageInput.REMOVE_BG)
            .compose(bytes -> service.matte(new MatteRequest(jobId, 0, bytes, options, zip, model))))
        .onSuccess(res -> reply(ctx, res, zip, type.equals("auto") ? "other" : type))
        .onFailure(err -> error(ctx, err));
  }

  /** Refuses parameters remove.bg does not have (a typo, or a feature we lack), naming them. */
  private void checkKnown(Set<String> names) {
    Set<String> unknown = new TreeSet<>(names);
    unknown.removeAll(KNOWN);
    if (unknown.isEmpty()) {
      return;
    }
    if (ignoreUnknown) {
      LOG.fine("event=removebg_unknown_ignored parameters=" + unknown);
      return;
    }
    String listed = String.join(", ", unknown.stream().map(n -> "'" + n + "'").toList());
    throw new CodedException(ErrorCode.UNKNOWN_PARAMETER, (unknown.size() == 1 ? "unknown parameter " : "unknown parameters ")
        + listed + ": not a remove.bg parameter this server knows, so it would be ignored");
  }

  /** {@code type_level}, {@code add_shadow}, {@code semitransparency}, {@code shadow_*}: checked, then unused. */
  private static void checkNoEffect(Map<String, String> p) {
    String level = p.get("type_level");
    if (level != null && !TYPE_LEVELS.contains(level.trim().toLowerCase(Locale.ROOT))) {
      throw new CodedException(ErrorCode.INVALID_PARAMETER, "type_level must be one of " + new TreeSet<>(TYPE_LEVELS));
    }
    for (String flag : List.of("add_shadow", "semitransparency")) {
      String v = p.get(flag);
      if (v != null && !Set.of("true", "false", "1", "0", "").contains(v.trim().toLowerCase(Locale.ROOT))) {
        throw new CodedException(ErrorCode.INVALID_PARAMETER, flag + " must be true or false");
      }
    }
    String shadow = p.get("shadow_type");
    if (shadow != null && !SHADOW_TYPES.contains(shadow.trim().toLowerCase(Locale.ROOT))) {
      throw new CodedException(ErrorCode.INVALID_PARAMETER, "shadow_type must be one of none, car, 3D, drop");
    }
    String opacity = p.get("shadow_opacity");
    if (opacity != null) {
      int v;
      try {
        v = Integer.parseInt(opacity.trim());
      } catch (NumberFormatException e) {
        v = -1;
      }
      if (v < 0 || v > MAX_SHADOW_OPACITY) {
        throw new CodedException(ErrorCode.INVALID_PARAMETER, "shadow_opacity must be 0..100");
      }
    }
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
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
        .putHeader("X-Matte-Confidence", res.confidence().headerValue())
        .putHeader("X-Matte-Review", Boolean.toString(res.review()))
        .putHeader("X-Model", res.model());
    Foreground fg = res.foreground();
    ctx.response().putHeader("X-Foreground-Top", Integer.toString(fg.top()))
        .putHeader("X-Foreground-Left", Integer.toString(fg.left()))
        .putHeader("X-Foreground-Width", Integer.toString(fg.width()))
        .putHeader("X-Foreground-Height", Integer.toString(fg.height()));
    String accept = ctx.request().getHeader("Accept");
    if (accept != null && accept.toLowerCase(Locale.ROOT).contains("application/json")) {
      ctx.response().putHeader("Content-Type", "application/json").end(new JsonObject().put("data",
          new JsonObject().put("result_b64", Base64.getEncoder().encodeToString(bytes))
              .put("foreground_top", fg.top()).put("foreground_left", fg.left())
              .put("foreground_width", fg.width()).put("foreground_height", fg.height())).encode());
    } else {
      ctx.response().putHeader("Content-Type", contentType).end(Buffer.buffer(bytes));
    }
  }
}
