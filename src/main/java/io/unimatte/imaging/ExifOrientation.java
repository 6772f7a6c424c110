package io.unimatte.imaging;

/**
 * Finds the EXIF Orientation tag (0x0112) in an encoded image without a metadata library, and maps
 * each orientation to the index arithmetic that puts the pixels upright.
 *
 * <p>Every parser here is defensive: malformed or truncated metadata yields {@link #NORMAL}, never an
 * exception, because a broken EXIF block must not make an otherwise good photo fail.
 */
final class ExifOrientation {

  /** Upright, no transform. */
  static final int NORMAL = 1;
  private static final int MAX_ORIENTATION = 8;

  private static final int TAG_ORIENTATION = 0x0112;
  private static final int TIFF_MAGIC = 42;
  private static final int TIFF_HEADER_BYTES = 8;
  private static final int IFD_ENTRY_BYTES = 12;
  private static final int TYPE_BYTE = 1;
  private static final int TYPE_SHORT = 3;
  private static final int TYPE_LONG = 4;

  private static final int JPEG_APP1 = 0xE1;
  private static final int JPEG_SOS = 0xDA;
  private static final int JPEG_EOI = 0xD9;
  private static final int JPEG_SOI = 0xD8;
  private static final int JPEG_RST0 = 0xD0;
  private static final int JPEG_RST7 = 0xD7;
  private static final int JPEG_TEM = 0x01;
  /** "Exif\0" plus one pad byte precede the TIFF header in a JPEG APP1 segment. */
  private static final int EXIF_PREFIX_BYTES = 6;

  private static final int PNG_SIGNATURE_BYTES = 8;
  private static final int PNG_CHUNK_OVERHEAD = 12;
  private static final int RIFF_HEADER_BYTES = 12;
  private static final int RIFF_CHUNK_HEADER_BYTES = 8;

  private ExifOrientation() {
  }

  /** The orientation stored in {@code data} of the given format, or {@link #NORMAL}. */
  static int find(byte[] data, ImageFormat format) {
    return switch (format) {
      case JPEG -> fromJpeg(data);
      case PNG -> fromPng(data);
      case WEBP -> fromWebp(data);
      case TIFF -> fromTiff(data, 0, data.length);
      default -> NORMAL;
    };
  }

  static int fromJpeg(byte[] d) {
    int n = d.length;
    int p = 2;
    while (p + 4 <= n) {
      if ((d[p] & 0xFF) != 0xFF) {
        return NORMAL;
      }
      int marker = d[p + 1] & 0xFF;
      if (marker == 0xFF) {
        p++; // fill byte before a marker
        continue;
      }
      if (marker == JPEG_SOI || marker == JPEG_TEM || (marker >= JPEG_RST0 && marker <= JPEG_RST7)) {
        p += 2; // markers without a length field
        continue;
      }
      if (marker == JPEG_SOS || marker == JPEG_EOI) {
        return NORMAL; // APPn segments all come before the first scan
      }
      int len = u16be(d, p + 2);
      if (len < 2) {
        return NORMAL;
      }
      int start = p + 4;
      int end = Math.min(n, p + 2 + len);
      if (marker == JPEG_APP1 && end - start > EXIF_PREFIX_BYTES && isExifPrefix(d, start)) {
        return fromTiff(d, start + EXIF_PREFIX_BYTES, end - start - EXIF_PREFIX_BYTES);
      }
      p = p + 2 + len;
    }
    return NORMAL;
  }

  static int fromPng(byte[] d) {
    int p = PNG_SIGNATURE_BYTES;
    while (p + PNG_CHUNK_OVERHEAD <= d.length) {
      long len = u32be(d, p);
      int start = p + 8;
      if (len > d.length - start) {
        return NORMAL;
      }
      if (d[p + 4] == 'e' && d[p + 5] == 'X' && d[p + 6] == 'I' && d[p + 7] == 'f') {
        return fromTiffMaybePrefixed(d, start, (int) len);
      }
      if (d[p + 4] == 'I' && d[p + 5] == 'E' && d[p + 6] == 'N' && d[p + 7] == 'D') {
        return NORMAL;
      }
      p = start + (int) len + 4;
    }
    return NORMAL;
  }

  static int fromWebp(byte[] d) {
    int p = RIFF_HEADER_BYTES;
    while (p + RIFF_CHUNK_HEADER_BYTES <= d.length) {
      long len = u32le(d, p + 4);
      int start = p + RIFF_CHUNK_HEADER_BYTES;
      if (len > d.length - start) {
        return NORMAL;
      }
      if (d[p] == 'E' && d[p + 1] == 'X' && d[p + 2] == 'I' && d[p + 3] == 'F') {
        return fromTiffMaybePrefixed(d, start, (int) len);
      }
      p = start + (int) len + (int) (len & 1); // chunks are padded to even sizes
    }
    return NORMAL;
  }

  /** Some writers copy the JPEG-style "Exif\0\0" prefix into PNG and WebP EXIF chunks as well. */
  private static int fromTiffMaybePrefixed(byte[] d, int off, int len) {
    if (len > EXIF_PREFIX_BYTES && isExifPrefix(d, off)) {
      return fromTiff(d, off + EXIF_PREFIX_BYTES, len - EXIF_PREFIX_BYTES);
    }
    return fromTiff(d, off, len);
  }

  /**
   * Reads Orientation from IFD0 of a TIFF structure at {@code d[off, off+len)} (the payload of an
   * EXIF block, or a whole TIFF file); offsets inside it are relative to {@code off}.
   */
  static int fromTiff(byte[] d, int off, int len) {
    if (off < 0 || len < TIFF_HEADER_BYTES || off > d.length - len) {
      return NORMAL;
    }
    boolean little;
    if (d[off] == 'I' && d[off + 1] == 'I') {
      little = true;
    } else if (d[off] == 'M' && d[off + 1] == 'M') {
      little = false;
    } else {
      return NORMAL;
    }
    if (u16(d, off + 2, little) != TIFF_MAGIC) {
      return NORMAL;
    }
    long ifd = u32(d, off + 4, little);
    if (ifd < TIFF_HEADER_BYTES || ifd > len - 2) {
      return NORMAL;
    }
    int entries = u16(d, off + (int) ifd, little);
    int p = off + (int) ifd + 2;
    int end = off + len;
    for (int i = 0; i < entries && p + IFD_ENTRY_BYTES <= end; i++, p += IFD_ENTRY_BYTES) {
      if (u16(d, p, little) != TAG_ORIENTATION) {
        continue;
      }
      int type = u16(d, p + 2, little);
      long value = switch (type) {
        case TYPE_SHORT -> u16(d, p + 8, little);
        case TYPE_LONG -> u32(d, p + 8, little);
        case TYPE_BYTE -> d[p + 8] & 0xFF;
        default -> NORMAL;
      };
      return value >= NORMAL && value <= MAX_ORIENTATION ? (int) value : NORMAL;
    }
    return NORMAL;
  }

  /** Whether orientation {@code o} swaps width and height (the four 90° variants). */
  static boolean swapsAxes(int o) {
    return o >= 5 && o <= MAX_ORIENTATION;
  }

  /**
   * Where source pixel (x, y) of a {@code w}×{@code h} image goes in the upright output:
   * {@code index = origin + x * stepX + y * stepY}. Returns {origin, stepX, stepY}.
   */
  static int[] placement(int o, int w, int h) {
    return switch (o) {
      case 2 -> new int[] {w - 1, -1, w};                  // mirror horizontally
      case 3 -> new int[] {w * h - 1, -1, -w};             // rotate 180°
      case 4 -> new int[] {(h - 1) * w, 1, -w};            // mirror vertically
      case 5 -> new int[] {0, h, 1};                       // transpose
      case 6 -> new int[] {h - 1, h, -1};                  // rotate 90° clockwise
      case 7 -> new int[] {w * h - 1, -h, -1};             // transverse
      case 8 -> new int[] {(w - 1) * h, -h, 1};            // rotate 90° counter-clockwise
      default -> new int[] {0, 1, w};
    };
  }

  private static boolean isExifPrefix(byte[] d, int p) {
    return d[p] == 'E' && d[p + 1] == 'x' && d[p + 2] == 'i' && d[p + 3] == 'f' && d[p + 4] == 0;
  }

  private static int u16(byte[] d, int p, boolean little) {
    return little ? (d[p] & 0xFF) | (d[p + 1] & 0xFF) << 8 : u16be(d, p);
  }

  private static long u32(byte[] d, int p, boolean little) {
    return little ? u32le(d, p) : u32be(d, p);
  }

  private static int u16be(byte[] d, int p) {
    return (d[p] & 0xFF) << 8 | (d[p + 1] & 0xFF);
  }

  private static long u32be(byte[] d, int p) {
    return ((long) (d[p] & 0xFF) << 24) | (d[p + 1] & 0xFF) << 16 | (d[p + 2] & 0xFF) << 8 | (d[p + 3] & 0xFF);
  }

  private static long u32le(byte[] d, int p) {
    return ((long) (d[p + 3] & 0xFF) << 24) | (d[p + 2] & 0xFF) << 16 | (d[p + 1] & 0xFF) << 8 | (d[p] & 0xFF);
  }
}
