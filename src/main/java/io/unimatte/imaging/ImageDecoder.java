package io.unimatte.imaging;

import com.twelvemonkeys.imageio.stream.ByteArrayImageInputStream;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;

/**
 * Decodes JPEG, PNG, BMP, GIF (first frame), WebP and TIFF into upright 8-bit sRGB ARGB.
 *
 * <p>The format comes from the magic bytes, never from a file name or content type. Size limits are
 * checked against the header before any pixel memory is allocated. Thread-safe: each call uses its
 * own ImageIO reader.
 */
public final class ImageDecoder {

  private static final String TWELVEMONKEYS_PACKAGE = "com.twelvemonkeys.";
  /**
   * libjpeg's warnings for entropy data that stops before the image does ("Premature end of JPEG
   * file", "premature end of data segment"): the JPEG reader only warns and fills the rest with grey.
   * A missing EOI marker alone is not treated as damage; many cameras and tools omit it.
   */
  private static final String JPEG_PREMATURE_END = "premature end";

  private static final int PNG_IHDR_WIDTH_OFFSET = 16;
  private static final int PNG_IHDR_HEIGHT_OFFSET = 20;
  private static final int PNG_MIN_HEADER_BYTES = 24;

  private final ImageLimits limits;
  private final Map<ImageFormat, ImageReaderSpi> readers = new EnumMap<>(ImageFormat.class);

  /** A decoder with {@link ImageLimits#DEFAULTS}. */
  public ImageDecoder() {
    this(ImageLimits.DEFAULTS);
  }

  /** A decoder enforcing {@code limits}; look-up of the ImageIO readers happens here, once. */
  public ImageDecoder(ImageLimits limits) {
    this.limits = Objects.requireNonNull(limits);
    for (ImageFormat f : ImageFormat.values()) {
      ImageReaderSpi spi = findReader(f.id);
      if (spi != null) {
        readers.put(f, spi);
      }
    }
  }

  /** The limits this decoder enforces. */
  public ImageLimits limits() {
    return limits;
  }

  /**
   * The format label ("jpeg", "png", "bmp", "gif", "webp", "tiff") that {@code data} starts with,
   * or null when unknown. Looks at the magic bytes only.
   */
  public static String sniffFormat(byte[] data) {
    ImageFormat f = ImageFormat.sniff(data);
    return f == null ? null : f.id;
  }

  /**
   * The pixel count {@code data}'s header announces (first frame), without decoding it; -1 when it
   * cannot be read (decoding then reports why). Cheap: the readers stop at the size fields.
   */
  public long pixels(byte[] data) {
    ImageFormat format = data == null || data.length == 0 ? null : ImageFormat.sniff(data);
    ImageReaderSpi spi = format == null ? null : readers.get(format);
    if (spi == null) {
      return -1;
    }
    ImageReader reader = null;
    try (ByteArrayImageInputStream in = new ByteArrayImageInputStream(data)) {
      reader = spi.createReaderInstance();
      reader.setInput(in, true, true);
      return (long) reader.getWidth(0) * reader.getHeight(0);
    } catch (IOException | RuntimeException e) {
      return -1;
    } finally {
      if (reader != null) {
        reader.dispose();
      }
    }
  }

  /**
   * Decodes {@code data} and applies its EXIF orientation.
   *
   * @throws ImageDecodeException with a stable {@link ImageDecodeException#code() code} for empty,
   *                              unknown, oversized, corrupt or truncated input
   */
  public DecodedImage decode(byte[] data) throws ImageDecodeException {
    if (data == null || data.length == 0) {
      throw new ImageDecodeException(ImageDecodeException.EMPTY_INPUT, "the image is empty");
    }
    if (data.length > limits.maxBytes()) {
      throw new ImageDecodeException(ImageDecodeException.IMAGE_TOO_LARGE,
          "the image is " + data.length + " bytes; the limit is " + limits.maxBytes());
    }
    ImageFormat format = ImageFormat.sniff(data);
    if (format == null) {
      throw new ImageDecodeException(ImageDecodeException.UNSUPPORTED_FORMAT,
          "not a JPEG, PNG, BMP, GIF, WebP or TIFF image");
    }
    if (format == ImageFormat.PNG) {
      checkPngHeader(data); // the JDK reader rejects a zero size as a generic I/O error
    }
    ImageReaderSpi spi = readers.get(format);
    if (spi == null) {
      throw new ImageDecodeException(ImageDecodeException.UNSUPPORTED_FORMAT,
          "no " + format.id + " reader is installed");
    }
    ImageReader reader;
    try {
      reader = spi.createReaderInstance();
    } catch (IOException e) {
      throw new IllegalStateException("cannot create a " + format.id + " reader", e);
    }
    try (ByteArrayImageInputStream in = new ByteArrayImageInputStream(data)) {
      // Metadata is skipped: orientation comes from our own parser, which is cheaper than ImageIO's trees.
      reader.setInput(in, false, true);
      int width;
      int height;
      try {
        width = reader.getWidth(0);
        height = reader.getHeight(0);
      } catch (IOException | RuntimeException e) {
        throw corrupt(format, e);
      }
      checkDimensions(width, height);
      if (format.multiFrame) {
        checkFrameCount(reader);
      }
      TruncationListener truncation = new TruncationListener();
      reader.addIIOReadWarningListener(truncation);
      BufferedImage img;
      try {
        img = reader.read(0, null);
      } catch (IOException | RuntimeException e) {
        throw corrupt(format, e);
      }
      if (truncation.truncated) {
        throw new ImageDecodeException(ImageDecodeException.CORRUPT_IMAGE,
            "the " + format.id + " data ends before the image does");
      }
      checkDimensions(img.getWidth(), img.getHeight());
      int orientation = ExifOrientation.find(data, format);
      int[] argb = ArgbConverter.toArgb(img, orientation);
      boolean swap = ExifOrientation.swapsAxes(orientation);
      return new DecodedImage(swap ? img.getHeight() : img.getWidth(), swap ? img.getWidth() : img.getHeight(),
          argb, format.id, img.getColorModel().hasAlpha(), orientation);
    } catch (IOException e) {
      throw corrupt(format, e); // from closing the stream; cannot happen for a byte array
    } finally {
      reader.dispose();
    }
  }

  private void checkPngHeader(byte[] data) throws ImageDecodeException {
    if (data.length < PNG_MIN_HEADER_BYTES) {
      throw new ImageDecodeException(ImageDecodeException.CORRUPT_IMAGE, "the PNG header is cut short");
    }
    checkDimensions(readInt(data, PNG_IHDR_WIDTH_OFFSET), readInt(data, PNG_IHDR_HEIGHT_OFFSET));
  }

  private void checkDimensions(long width, long height) throws ImageDecodeException {
    if (width <= 0 || height <= 0) {
      throw new ImageDecodeException(ImageDecodeException.INVALID_DIMENSIONS,
          "the image claims to be " + width + "x" + height + " pixels");
    }
    if (width * height > limits.maxPixels()) {
      throw new ImageDecodeException(ImageDecodeException.IMAGE_TOO_LARGE,
          "the image is " + width + "x" + height + " pixels; the limit is " + limits.maxPixels() + " pixels");
    }
  }

  private void checkFrameCount(ImageReader reader) throws ImageDecodeException {
    int frames;
    try {
      frames = reader.getNumImages(true);
    } catch (IOException | RuntimeException e) {
      // A damaged tail after the first frame is harmless: only frame 0 is decoded.
      return;
    }
    if (frames > limits.maxFrames()) {
      throw new ImageDecodeException(ImageDecodeException.TOO_MANY_FRAMES,
          "the image has " + frames + " frames; the limit is " + limits.maxFrames());
    }
  }

  private static ImageDecodeException corrupt(ImageFormat format, Throwable e) {
    String detail = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return new ImageDecodeException(ImageDecodeException.CORRUPT_IMAGE,
        "cannot decode the " + format.id + " image: " + detail, e);
  }

  private static long readInt(byte[] d, int p) {
    return ((long) (d[p] & 0xFF) << 24) | (d[p + 1] & 0xFF) << 16 | (d[p + 2] & 0xFF) << 8 | (d[p + 3] & 0xFF);
  }

  /** TwelveMonkeys' readers first (CMYK/YCCK JPEG, more BMP and TIFF variants), then the JDK's. */
  private static ImageReaderSpi findReader(String formatName) {
    ImageReaderSpi fallback = null;
    Iterator<ImageReaderSpi> it = IIORegistry.getDefaultInstance().getServiceProviders(ImageReaderSpi.class, true);
    while (it.hasNext()) {
      ImageReaderSpi spi = it.next();
      if (!handles(spi, formatName)) {
        continue;
      }
      if (spi.getClass().getName().startsWith(TWELVEMONKEYS_PACKAGE)) {
        return spi;
      }
      if (fallback == null) {
        fallback = spi;
      }
    }
    return fallback;
  }

  private static boolean handles(ImageReaderSpi spi, String formatName) {
    for (String name : spi.getFormatNames()) {
      if (name.equalsIgnoreCase(formatName)) {
        return true;
      }
    }
    return false;
  }

  /** Notes libjpeg's "premature end" warning, which is the only sign of a truncated JPEG. */
  private static final class TruncationListener implements IIOReadWarningListener {
    volatile boolean truncated;

    @Override
    public void warningOccurred(ImageReader source, String warning) {
      if (warning != null && warning.toLowerCase(java.util.Locale.ROOT).contains(JPEG_PREMATURE_END)) {
        truncated = true;
      }
    }
  }
}
