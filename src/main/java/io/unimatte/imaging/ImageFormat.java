package io.unimatte.imaging;

/** Input formats recognised by their magic bytes; {@link #id} is the ImageIO format name and the public label. */
enum ImageFormat {
  JPEG("jpeg", false),
  PNG("png", false),
  BMP("bmp", false),
  GIF("gif", true),
  WEBP("webp", true),
  TIFF("tiff", true);

  /** The shortest input for which {@link #sniff} can decide anything. */
  private static final int MIN_SNIFF_BYTES = 4;
  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  /** Offset of the DIB header size field in a BMP file header. */
  private static final int BMP_DIB_SIZE_OFFSET = 14;
  /** The DIB header sizes that real BMP variants use (OS/2 1.x, OS/2 2.x short, v1, v2, v3, OS/2 2.x, v4, v5). */
  private static final int[] BMP_DIB_SIZES = {12, 16, 40, 52, 56, 64, 108, 124};
  private static final int WEBP_FOURCC_OFFSET = 8;

  final String id;
  /** Whether the container can hold several frames, so a frame limit applies. */
  final boolean multiFrame;

  ImageFormat(String id, boolean multiFrame) {
    this.id = id;
    this.multiFrame = multiFrame;
  }

  /** The format whose magic bytes start {@code d}, or null. */
  static ImageFormat sniff(byte[] d) {
    if (d == null || d.length < MIN_SNIFF_BYTES) {
      return null;
    }
    if ((d[0] & 0xFF) == 0xFF && (d[1] & 0xFF) == 0xD8 && (d[2] & 0xFF) == 0xFF) {
      return JPEG;
    }
    if (startsWith(d, 0, PNG_SIGNATURE)) {
      return PNG;
    }
    if (d.length >= 6 && d[0] == 'G' && d[1] == 'I' && d[2] == 'F' && d[3] == '8'
        && (d[4] == '7' || d[4] == '9') && d[5] == 'a') {
      return GIF;
    }
    if (d.length >= 12 && d[0] == 'R' && d[1] == 'I' && d[2] == 'F' && d[3] == 'F'
        && d[WEBP_FOURCC_OFFSET] == 'W' && d[9] == 'E' && d[10] == 'B' && d[11] == 'P') {
      return WEBP;
    }
    if ((d[0] == 'I' && d[1] == 'I' && d[2] == 42 && d[3] == 0) || (d[0] == 'M' && d[1] == 'M' && d[2] == 0 && d[3] == 42)) {
      return TIFF;
    }
    // "BM" alone would also match plain text, so require a known DIB header size.
    if (d[0] == 'B' && d[1] == 'M' && d.length >= BMP_DIB_SIZE_OFFSET + 4) {
      int dib = (d[BMP_DIB_SIZE_OFFSET] & 0xFF) | (d[BMP_DIB_SIZE_OFFSET + 1] & 0xFF) << 8
          | (d[BMP_DIB_SIZE_OFFSET + 2] & 0xFF) << 16 | (d[BMP_DIB_SIZE_OFFSET + 3] & 0xFF) << 24;
      for (int size : BMP_DIB_SIZES) {
        if (dib == size) {
          return BMP;
        }
      }
    }
    return null;
  }

  private static boolean startsWith(byte[] d, int off, byte[] prefix) {
    if (d.length - off < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (d[off + i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }
}
