package io.unimatte.imaging.output;

import io.unimatte.error.CodedException;
import io.unimatte.error.ErrorCode;
import java.util.Locale;
import java.util.Map;

/**
 * What to make of a matte: cutout or matte, file format, background, crop, size bound.
 * Parsed from request parameters; {@link #canonical()} is stable across aliases and order, so it
 * can key the result cache.
 *
 * @param matteOnly   the grey matte instead of the cutout
 * @param format      {@code png} or {@code jpg}
 * @param background  ARGB of a solid background under the cutout, or null for transparent
 * @param crop        crop to the subject's bounding box
 * @param cropMargin  margin around the subject: pixels, or percent of the box when {@code cropMarginPercent}
 * @param cropMarginPercent whether {@code cropMargin} is a percentage
 * @param maxPixels   upper bound on output pixels (0: none), kept aspect, never upscaled
 * @param maxWidth    upper bound on width (0: none)
 * @param maxHeight   upper bound on height (0: none)
 * @param jpegQuality 1..100
 * @param refine      refine the matte at full resolution ({@code refine=}); null: the server's default
 * @param colour      estimate the foreground colour of soft edge pixels in cutouts and composites
 *                    ({@code colour=} or {@code color=}); null: the server's default
 */
public record OutputOptions(boolean matteOnly, String format, Integer background, boolean crop, int cropMargin,
                            boolean cropMarginPercent, long maxPixels, int maxWidth, int maxHeight, int jpegQuality,
                            Boolean refine, Boolean colour) {

  /** Options with the server's default refinement and colour estimation. */
  public OutputOptions(boolean matteOnly, String format, Integer background, boolean crop, int cropMargin,
                       boolean cropMarginPercent, long maxPixels, int maxWidth, int maxHeight, int jpegQuality) {
    this(matteOnly, format, background, crop, cropMargin, cropMarginPercent, maxPixels, maxWidth, maxHeight,
        jpegQuality, null, null);
  }

  /** {@code size=preview}: about 0.25 megapixels, like the previews of hosted background removers. */
  public static final long PREVIEW_PIXELS = 250_000;
  public static final int DEFAULT_JPEG_QUALITY = 92;
  private static final int MAX_MARGIN_PX = 10_000;
  private static final int MAX_MARGIN_PERCENT = 50;
  private static final int MAX_DIMENSION = 20_000;

  /** Cutout, PNG, transparent, full size. */
  public static final OutputOptions DEFAULT = new OutputOptions(false, "png", null, false, 0, false, 0, 0, 0,
      DEFAULT_JPEG_QUALITY);

  /** A bad value, with the parameter it came in. */
  public static final class InvalidOptionException extends CodedException {
    private static final long serialVersionUID = 1L;
    private final String parameter;

    public InvalidOptionException(String parameter, String message) {
      this(ErrorCode.INVALID_PARAMETER, parameter, message);
    }

    public InvalidOptionException(ErrorCode code, String parameter, String message) {
      super(code, message);
      this.parameter = parameter;
    }

    public String parameter() {
      return parameter;
    }
  }

  /**
   * Parses {@code output, format, bg, crop, crop_margin, size, quality, refine, colour|color} (absent ones
   * keep defaults).
   */
  public static OutputOptions parse(Map<String, String> p) {
    boolean matte = switch (p.getOrDefault("output", "rgba").toLowerCase(Locale.ROOT)) {
      case "rgba", "cutout" -> false;
      case "alpha", "mask", "matte" -> true;
      default -> throw new InvalidOptionException("output", "output must be 'rgba' or 'alpha', got '" + p.get("output") + "'");
    };
    String format = switch (p.getOrDefault("format", "png").toLowerCase(Locale.ROOT)) {
      case "png", "auto" -> "png";
      case "jpg", "jpeg" -> "jpg";
      case "webp" -> throw new InvalidOptionException(ErrorCode.UNSUPPORTED_OUTPUT_FORMAT, "format",
          "WebP output is not available (no encoder); use png or jpg");
      default -> throw new InvalidOptionException("format", "format must be png or jpg, got '" + p.get("format") + "'");
    };
    Integer bg = p.get("bg") == null || p.get("bg").isBlank() ? null : parseColor("bg", p.get("bg"));
    boolean crop = parseBool("crop", p.getOrDefault("crop", "false"));
    int margin = 0;
    boolean percent = false;
    String m = p.get("crop_margin");
    if (m != null && !m.isBlank()) {
      String v = m.trim().toLowerCase(Locale.ROOT);
      percent = v.endsWith("%");
      v = v.replace("%", "").replace("px", "").trim();
      try {
        margin = Integer.parseInt(v);
      } catch (NumberFormatException e) {
        throw new InvalidOptionException("crop_margin", "crop_margin must be pixels (20, 20px) or a percentage (10%)");
      }
      if (margin < 0 || margin > (percent ? MAX_MARGIN_PERCENT : MAX_MARGIN_PX)) {
        throw new InvalidOptionException("crop_margin", "crop_margin must be 0.." + MAX_MARGIN_PX + "px or 0.."
            + MAX_MARGIN_PERCENT + "%");
      }
    }
    long maxPixels = 0;
    int maxW = 0;
    int maxH = 0;
    String size = p.getOrDefault("size", "full").toLowerCase(Locale.ROOT).trim();
    switch (size) {
      case "full", "auto", "original" -> { }
      case "preview", "small", "regular" -> maxPixels = PREVIEW_PIXELS;
      default -> {
        String[] wh = size.split("x");
        try {
          if (wh.length != 2) {
            throw new NumberFormatException();
          }
          maxW = Integer.parseInt(wh[0]);
          maxH = Integer.parseInt(wh[1]);
        } catch (NumberFormatException e) {
          throw new InvalidOptionException("size", "size must be preview, full or WIDTHxHEIGHT, got '" + size + "'");
        }
        if (maxW < 1 || maxH < 1 || maxW > MAX_DIMENSION || maxH > MAX_DIMENSION) {
          throw new InvalidOptionException("size", "size WIDTHxHEIGHT must be within 1.." + MAX_DIMENSION);
        }
      }
    }
    int quality = DEFAULT_JPEG_QUALITY;
    if (p.get("quality") != null) {
      try {
        quality = Integer.parseInt(p.get("quality").trim());
      } catch (NumberFormatException e) {
        quality = -1;
      }
      if (quality < 1 || quality > 100) {
        throw new InvalidOptionException("quality", "quality must be 1..100");
      }
    }
    Boolean refine = optionalBool("refine", p.get("refine"));
    String c = p.get("colour") != null ? "colour" : "color";
    Boolean colour = optionalBool(c, p.get(c));
    return new OutputOptions(matte, format, bg, crop, margin, percent, maxPixels, maxW, maxH, quality, refine, colour);
  }

  /** These options with the given refinement and colour-estimation choices (null: server default). */
  public OutputOptions withQuality(Boolean refine, Boolean colour) {
    return new OutputOptions(matteOnly, format, background, crop, cropMargin, cropMarginPercent, maxPixels, maxWidth,
        maxHeight, jpegQuality, refine, colour);
  }

  private static Boolean optionalBool(String parameter, String value) {
    return value == null || value.isBlank() ? null : parseBool(parameter, value);
  }

  /** {@code RRGGBB} or {@code RRGGBBAA} (optional {@code #}), or a few colour names. */
  public static int parseColor(String parameter, String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    v = switch (v) {
      case "white" -> "ffffff";
      case "black" -> "000000";
      case "red" -> "ff0000";
      case "green" -> "00ff00";
      case "blue" -> "0000ff";
      default -> v.startsWith("#") ? v.substring(1) : v;
    };
    if (!v.matches("[0-9a-f]{6}([0-9a-f]{2})?")) {
      throw new InvalidOptionException(parameter, parameter + " must be a colour RRGGBB or RRGGBBAA, got '" + value + "'");
    }
    int rgb = Integer.parseInt(v.substring(0, 6), 16);
    int a = v.length() == 8 ? Integer.parseInt(v.substring(6), 16) : 0xFF;
    return (a << 24) | rgb;
  }

  private static boolean parseBool(String parameter, String value) {
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "true", "1", "yes", "on" -> true;
      case "false", "0", "no", "off", "" -> false;
      default -> throw new InvalidOptionException(parameter, parameter + " must be true or false");
    };
  }

  /** Media type of the encoded output. */
  public String contentType() {
    return format.equals("jpg") ? "image/jpeg" : "image/png";
  }

  /** Every effective value, in a fixed order. */
  public String canonical() {
    return "output=" + (matteOnly ? "alpha" : "rgba") + ";format=" + format + ";bg="
        + (background == null ? "none" : String.format("%08x", background)) + ";crop=" + crop + ";margin=" + cropMargin
        + (cropMarginPercent ? "%" : "px") + ";maxPixels=" + maxPixels + ";max=" + maxWidth + "x" + maxHeight
        + ";quality=" + (format.equals("jpg") ? jpegQuality : 0) + ";refine=" + choice(refine)
        + ";colour=" + (matteOnly ? "n/a" : choice(colour));
  }

  /** The server default is fixed for the process's lifetime, so "default" is a stable cache-key part. */
  private static String choice(Boolean b) {
    return b == null ? "default" : b.toString();
  }
}
