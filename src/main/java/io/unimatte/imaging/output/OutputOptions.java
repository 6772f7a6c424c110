package io.unimatte.imaging.output;

import io.unimatte.error.CodedException;
import io.unimatte.error.ErrorCode;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;

/**
 * What to make of a matte: cutout or matte, file format, background (colour or image), crop, size
 * bound, region of interest and product layout (scale and position of the subject on the canvas).
 * Parsed from request parameters; {@link #canonical()} is stable across aliases and order, so it
 * can key the result cache.
 *
 * @param matteOnly   the grey matte instead of the cutout
 * @param format      {@code png}, {@code jpg} or {@code webp}
 * @param background  ARGB of a solid background under the cutout, or null for transparent
 * @param crop        crop to the subject's bounding box
 * @param cropMargin  margin around the subject: pixels, or percent of the box when {@code cropMarginPercent}
 * @param cropMarginPercent whether {@code cropMargin} is a percentage
 * @param maxPixels   upper bound on output pixels (0: none), kept aspect, never upscaled
 * @param maxWidth    upper bound on width (0: none)
 * @param maxHeight   upper bound on height (0: none)
 * @param jpegQuality 1..100: JPEG quality, and lossy WebP's when {@code lossy}
 * @param refine      refine the matte at full resolution ({@code refine=}); null: the server's default
 * @param colour      estimate the foreground colour of soft edge pixels in cutouts and composites
 *                    ({@code colour=} or {@code color=}); null: the server's default
 * @param roi         region of interest ({@code roi=}): alpha is 0 outside it; null: the whole image
 * @param scale       the subject's longer side as a share (0.1..1) of the canvas's longer side
 *                    ({@code scale=}); null: {@code original}, the subject keeps its size
 * @param position    where the subject goes on the canvas ({@code position=}); never null
 * @param backgroundImage a photo under the cutout, cover-fitted to the output ({@code bg_image}); null: none
 * @param lossy       WebP only: lossy at {@code jpegQuality} ({@code quality=} given), else lossless
 *
 * <p>Longer than most files on purpose: every output option of every API is parsed and checked here, once.
 */
public record OutputOptions(boolean matteOnly, String format, Integer background, boolean crop, int cropMargin,
                            boolean cropMarginPercent, long maxPixels, int maxWidth, int maxHeight, int jpegQuality,
                            Boolean refine, Boolean colour, Region roi, Double scale, Position position,
                            BackgroundImage backgroundImage, boolean lossy) {

  /** Options with the server's default refinement and colour estimation, and no roi or layout. */
  public OutputOptions(boolean matteOnly, String format, Integer background, boolean crop, int cropMargin,
                       boolean cropMarginPercent, long maxPixels, int maxWidth, int maxHeight, int jpegQuality) {
    this(matteOnly, format, background, crop, cropMargin, cropMarginPercent, maxPixels, maxWidth, maxHeight,
        jpegQuality, null, null);
  }

  /** Options without roi, layout or background image. */
  public OutputOptions(boolean matteOnly, String format, Integer background, boolean crop, int cropMargin,
                       boolean cropMarginPercent, long maxPixels, int maxWidth, int maxHeight, int jpegQuality,
                       Boolean refine, Boolean colour) {
    this(matteOnly, format, background, crop, cropMargin, cropMarginPercent, maxPixels, maxWidth, maxHeight,
        jpegQuality, refine, colour, null, null, Position.ORIGINAL, null, false);
  }

  /** Validates the layout parts. */
  public OutputOptions {
    if (position == null) {
      throw new IllegalArgumentException("position must not be null (Position.ORIGINAL keeps the subject in place)");
    }
    if (background != null && backgroundImage != null) {
      throw new InvalidOptionException("bg_image", "give a background colour or a background image, not both");
    }
  }

  /** A coordinate of {@code roi}: pixels, or percent of the image's width or height. */
  public record Coordinate(double value, boolean percent) {
    int resolve(int extent) {
      double v = percent ? value * extent / PERCENT : value;
      return (int) Math.max(0, Math.min(extent, Math.round(v)));
    }

    @Override
    public String toString() {
      return percent ? trim(value) + "%" : trim(value) + "px";
    }
  }

  /** {@code roi}: the rectangle from (x1, y1) to (x2, y2) in which the subject is looked for. */
  public record Region(Coordinate x1, Coordinate y1, Coordinate x2, Coordinate y2) {
    /** {@code [x0, y0, x1, y1)} in pixels of a {@code w}×{@code h} image, clamped to it (may be empty). */
    public int[] resolve(int w, int h) {
      int a = x1.resolve(w);
      int b = y1.resolve(h);
      return new int[] {a, b, Math.max(a, x2.resolve(w)), Math.max(b, y2.resolve(h))};
    }

    @Override
    public String toString() {
      return x1 + " " + y1 + " " + x2 + " " + y2;
    }
  }

  /**
   * {@code position}: where the subject's box goes on the canvas, as shares (0..1) of the free space
   * left and above it (0: flush left/top, 0.5: centred, 1: flush right/bottom), or its original place.
   */
  public record Position(double x, double y, boolean original) {
    /** The subject stays where it was in the photo. */
    public static final Position ORIGINAL = new Position(0, 0, true);
    /** Centred on the canvas. */
    public static final Position CENTER = new Position(0.5, 0.5, false);

    @Override
    public String toString() {
      return original ? "original" : trim(x * PERCENT) + "%," + trim(y * PERCENT) + "%";
    }
  }

  /** A background photo's bytes (decoded when rendering) and their SHA-256, which keys the cache. */
  public record BackgroundImage(byte[] bytes, String sha256) {
    /** Hashes {@code bytes}. */
    public static BackgroundImage of(byte[] bytes) {
      try {
        return new BackgroundImage(bytes, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)));
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("SHA-256 is part of every JDK", e);
      }
    }

    @Override
    public String toString() {
      return "BackgroundImage[" + bytes.length + " bytes, sha256=" + sha256 + "]";
    }
  }

  /** {@code size=preview}: about 0.25 megapixels, like the previews of hosted background removers. */
  public static final long PREVIEW_PIXELS = 250_000;
  public static final int DEFAULT_JPEG_QUALITY = 92;
  private static final int MAX_MARGIN_PX = 10_000;
  private static final int MAX_MARGIN_PERCENT = 50;
  private static final int MAX_DIMENSION = 20_000;
  private static final double PERCENT = 100.0;
  /** remove.bg's range for {@code scale}: 10 % to 100 %. */
  private static final double MIN_SCALE_PERCENT = 10;
  private static final int ROI_COORDINATES = 4;
  private static final int MAX_ROI_PX = 1_000_000;

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
   * Parses {@code output, format, bg, crop, crop_margin, size, quality, refine, colour|color, roi, scale,
   * position} (absent ones keep defaults). A background image comes as bytes: {@link #withBackgroundImage}.
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
      case "webp" -> "webp";
      default -> throw new InvalidOptionException("format", "format must be png, jpg or webp, got '" + p.get("format")
          + "'");
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
    Region roi = parseRoi(p.get("roi"));
    Double scale = parseScale(p.get("scale"));
    Position position = parsePosition(p.get("position"), scale != null);
    // quality= asks WebP for lossy compression; without it WebP is lossless like PNG
    boolean lossy = format.equals("webp") && p.get("quality") != null;
    return new OutputOptions(matte, format, bg, crop, margin, percent, maxPixels, maxW, maxH, quality, refine, colour,
        roi, scale, position, null, lossy);
  }

  /** These options with the given refinement and colour-estimation choices (null: server default). */
  public OutputOptions withQuality(Boolean refine, Boolean colour) {
    return new OutputOptions(matteOnly, format, background, crop, cropMargin, cropMarginPercent, maxPixels, maxWidth,
        maxHeight, jpegQuality, refine, colour, roi, scale, position, backgroundImage, lossy);
  }

  /** These options with a size bound in pixels instead of theirs (remove.bg's {@code size} names). */
  public OutputOptions withMaxPixels(long pixels) {
    return new OutputOptions(matteOnly, format, background, crop, cropMargin, cropMarginPercent, pixels, 0, 0,
        jpegQuality, refine, colour, roi, scale, position, backgroundImage, lossy);
  }

  /**
   * These options with {@code bytes} as the background photo (null or empty: none).
   *
   * @throws InvalidOptionException when a background colour is set too
   */
  public OutputOptions withBackgroundImage(byte[] bytes) {
    return new OutputOptions(matteOnly, format, background, crop, cropMargin, cropMarginPercent, maxPixels, maxWidth,
        maxHeight, jpegQuality, refine, colour, roi, scale, position,
        bytes == null || bytes.length == 0 ? null : BackgroundImage.of(bytes), lossy);
  }

  /** The grey matte framed like these options' output (same roi, crop, layout and size), as PNG. */
  public OutputOptions asMatte() {
    return new OutputOptions(true, "png", null, crop, cropMargin, cropMarginPercent, maxPixels, maxWidth, maxHeight,
        jpegQuality, refine, colour, roi, scale, position, null, false);
  }

  /** Whether the subject is moved or scaled on the canvas ({@code scale} or a {@code position} given). */
  public boolean laysOut() {
    return scale != null || !position.original();
  }

  /** {@code x1 y1 x2 y2}, each {@code 10%}, {@code 120px} or {@code 120}; null or blank: none. */
  static Region parseRoi(String value) {
    if (value == null || value.isBlank()) {
      return null;
    }
    String[] parts = value.trim().split("[\\s,]+");
    if (parts.length != ROI_COORDINATES) {
      throw new InvalidOptionException("roi", "roi must be 'x1 y1 x2 y2' in pixels or percent (e.g. '10% 10% 90% 90%'),"
          + " got '" + value + "'");
    }
    Coordinate[] c = new Coordinate[ROI_COORDINATES];
    for (int i = 0; i < ROI_COORDINATES; i++) {
      String v = parts[i].toLowerCase(Locale.ROOT);
      boolean pct = v.endsWith("%");
      double d;
      try {
        String number = pct ? v.substring(0, v.length() - 1) : v.endsWith("px") ? v.substring(0, v.length() - 2) : v;
        d = Double.parseDouble(number);
      } catch (NumberFormatException e) {
        throw new InvalidOptionException("roi", "roi coordinate '" + parts[i]
            + "' is not pixels (120, 120px) or a percentage (10%)");
      }
      if (!(d >= 0) || d > (pct ? PERCENT : MAX_ROI_PX)) {
        throw new InvalidOptionException("roi", "roi coordinates must be 0..100% or 0.." + MAX_ROI_PX + "px, got '"
            + parts[i] + "'");
      }
      c[i] = new Coordinate(d, pct);
    }
    for (int i = 0; i < 2; i++) {
      Coordinate from = c[i];
      Coordinate to = c[i + 2];
      if (from.percent() == to.percent() && from.value() >= to.value()) {
        throw new InvalidOptionException("roi", "roi must go from the top-left corner (x1 y1) to the bottom-right (x2 y2),"
            + " got '" + value + "'");
      }
    }
    return new Region(c[0], c[1], c[2], c[3]);
  }

  /** {@code original} (null), or {@code 10%}..{@code 100%} (the % may be left out). */
  static Double parseScale(String value) {
    if (value == null || value.isBlank() || value.trim().equalsIgnoreCase("original")) {
      return null;
    }
    double pct = percent("scale", value, "scale must be 10%..100% or 'original'");
    if (pct < MIN_SCALE_PERCENT || pct > PERCENT) {
      throw new InvalidOptionException("scale", "scale must be 10%..100% or 'original', got '" + value + "'");
    }
    return pct / PERCENT;
  }

  /** {@code original}, {@code center}, {@code X%} (both axes) or {@code X% Y%}; absent: centred when scaled. */
  static Position parsePosition(String value, boolean scaled) {
    if (value == null || value.isBlank()) {
      return scaled ? Position.CENTER : Position.ORIGINAL;
    }
    String v = value.trim().toLowerCase(Locale.ROOT);
    if (v.equals("original")) {
      return Position.ORIGINAL;
    }
    if (v.equals("center") || v.equals("centre")) {
      return Position.CENTER;
    }
    String[] parts = v.split("[\\s,]+");
    String usage = "position must be 'original', 'center', 'X%' or 'X% Y%' (0..100%)";
    if (parts.length > 2) {
      throw new InvalidOptionException("position", usage + ", got '" + value + "'");
    }
    double x = percent("position", parts[0], usage);
    double y = parts.length == 2 ? percent("position", parts[1], usage) : x;
    if (x < 0 || x > PERCENT || y < 0 || y > PERCENT) {
      throw new InvalidOptionException("position", usage + ", got '" + value + "'");
    }
    return new Position(x / PERCENT, y / PERCENT, false);
  }

  private static double percent(String parameter, String value, String usage) {
    String v = value.trim();
    v = v.endsWith("%") ? v.substring(0, v.length() - 1).trim() : v;
    try {
      double d = Double.parseDouble(v);
      if (Double.isFinite(d)) {
        return d;
      }
    } catch (NumberFormatException e) {
      // reported below with the usage
    }
    throw new InvalidOptionException(parameter, usage + ", got '" + value + "'");
  }

  /** {@code 10} for 10.0, {@code 12.5} for 12.5: canonical and readable. */
  private static String trim(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
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
    return switch (format) {
      case "jpg" -> "image/jpeg";
      case "webp" -> "image/webp";
      default -> "image/png";
    };
  }

  /**
   * Every effective value, in a fixed order. A background image is named by its content hash, never by
   * where it came from: the same photo from a URL or an upload is the same output.
   */
  public String canonical() {
    boolean qualityUsed = format.equals("jpg") || lossy;
    return "output=" + (matteOnly ? "alpha" : "rgba") + ";format=" + format + (lossy ? "-lossy" : "") + ";bg="
        + (background == null ? "none" : String.format("%08x", background)) + ";crop=" + crop + ";margin=" + cropMargin
        + (cropMarginPercent ? "%" : "px") + ";maxPixels=" + maxPixels + ";max=" + maxWidth + "x" + maxHeight
        + ";quality=" + (qualityUsed ? jpegQuality : 0) + ";refine=" + choice(refine)
        + ";colour=" + (matteOnly ? "n/a" : choice(colour)) + ";roi=" + (roi == null ? "none" : roi)
        + ";scale=" + (scale == null ? "original" : trim(scale * PERCENT) + "%") + ";position=" + position
        + ";bgImage=" + (backgroundImage == null || matteOnly ? "none" : "sha256:" + backgroundImage.sha256());
  }

  /** The server default is fixed for the process's lifetime, so "default" is a stable cache-key part. */
  private static String choice(Boolean b) {
    return b == null ? "default" : b.toString();
  }
}
