package io.unimatte.imaging.output;

/**
 * The subject's bounding box in an output image: the pixels whose alpha is above
 * {@link OutputRenderer#CROP_THRESHOLD}; all zero when there is no subject. remove.bg names it
 * {@code X-Foreground-Left/Top/Width/Height}.
 */
public record Foreground(int left, int top, int width, int height) {
  /** No subject. */
  public static final Foreground NONE = new Foreground(0, 0, 0, 0);

  /** {@code left,top,width,height}, as the result cache stores it. */
  public String encode() {
    return left + "," + top + "," + width + "," + height;
  }

  /** Reads {@link #encode()}; {@link #NONE} for null or anything else. */
  public static Foreground decode(String s) {
    String[] p = s == null ? new String[0] : s.split(",");
    if (p.length != 4) {
      return NONE;
    }
    try {
      return new Foreground(Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]),
          Integer.parseInt(p[3]));
    } catch (NumberFormatException e) {
      return NONE;
    }
  }
}
