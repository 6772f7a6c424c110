package io.unimatte.imaging;

import com.luciad.imageio.webp.WebPImageWriterSpi;
import com.luciad.imageio.webp.WebPWriteParam;
import io.unimatte.error.CodedException;
import io.unimatte.error.ErrorCode;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.awt.image.DirectColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.logging.Logger;
import javax.imageio.IIOImage;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * WebP through the libwebp ImageIO writer of {@code com.github.usefulness:webp-imageio}, whose jar
 * carries the JNI library for Linux, macOS and Windows on x86-64 and ARM. Lossless keeps every pixel
 * and the alpha exactly; lossy takes a quality (the alpha plane stays lossless).
 *
 * <p>Where the native library cannot be loaded (another platform, a locked-down temp directory) or
 * the operator turned WebP off, {@link #available()} is false with the reason, and {@link #encode}
 * refuses with {@link ErrorCode#OUTPUT_FORMAT_UNAVAILABLE} instead of failing in native code.
 * Thread-safe: each call uses its own writer.
 */
public final class WebpEncoder {
  private static final Logger LOG = Logger.getLogger(WebpEncoder.class.getName());
  private static final String READER_SPI = "com.luciad.imageio.webp.WebPImageReaderSpi";
  private static final String LOSSLESS = "Lossless";
  private static final String LOSSY = "Lossy";
  private static final int[] ARGB_MASKS = {0xFF0000, 0xFF00, 0xFF, 0xFF000000};
  private static final int[] RGB_MASKS = {0xFF0000, 0xFF00, 0xFF};
  private static final int ARGB_BITS = 32;
  private static final int RGB_BITS = 24;
  private static final float PERCENT = 100f;
  /**
   * Lossless methods used: effort 0..100 maps onto libwebp's methods 1..6. Never 0: TwelveMonkeys 3.12-3.15
   * (our own decoder, and that of many Java clients) misreads the alpha of some method-0 files (a flat
   * cutout decoded fully opaque; libwebp reads them right), and method 0's files are larger anyway.
   */
  private static final int MIN_METHOD = 1;
  private static final int MAX_METHOD = 6;
  /**
   * Lossless effort used by {@link #WebpEncoder(boolean)}: the fastest, already a third of our PNG's size;
   * more effort gains 5–10 % and holds the small imaging pool for seconds more at 12 MP (docs/PERFORMANCE.md,
   * "WebP output").
   */
  public static final int DEFAULT_EFFORT = 0;
  private static final int MAX_EFFORT = 100;
  /** Output bytes to reserve up front per pixel: lossless cutouts of photos land near an eighth. */
  private static final int PIXELS_PER_EXPECTED_BYTE = 8;

  /** Whether WebP can be written here, and why not. */
  public record Availability(boolean available, String reason) {
  }

  /** Loaded on first use: probing loads the native library, which must not happen on an event loop. */
  private static final class Native {
    static final Availability STATUS = probe(WebpEncoder::probeNative);
  }

  private final boolean enabled;
  private final int effort;

  /** An encoder with lossless effort {@link #DEFAULT_EFFORT}. */
  public WebpEncoder(boolean enabled) {
    this(enabled, DEFAULT_EFFORT);
  }

  /**
   * @param enabled false turns WebP off ({@code imaging.webp}): every encode is refused
   * @param effort  lossless compression effort 0 (fastest) to 100 (smallest) ({@code imaging.webpEffort});
   *                libwebp's own default, 75, is 3–7× slower than 0 for files 5–10 % smaller
   */
  public WebpEncoder(boolean enabled, int effort) {
    if (effort < 0 || effort > MAX_EFFORT) {
      throw new IllegalArgumentException("WebP effort must be 0..100: " + effort);
    }
    this.enabled = enabled;
    this.effort = effort;
  }

  /** Whether the native encoder loaded in this process (loads it on the first call). */
  public static Availability nativeAvailability() {
    return Native.STATUS;
  }

  /** Runs {@code load}; any linkage or runtime failure becomes "unavailable" with the platform named. */
  static Availability probe(Callable<?> load) {
    try {
      load.call();
      return new Availability(true, "");
    } catch (LinkageError | Exception e) {
      String platform = System.getProperty("os.name") + "/" + System.getProperty("os.arch");
      String reason = "the WebP encoder's native library did not load on " + platform.toLowerCase(Locale.ROOT)
          + " (" + e + ")";
      LOG.warning("event=webp_unavailable reason=\"" + reason + "\"");
      return new Availability(false, reason);
    }
  }

  /** Whether this encoder writes WebP: turned on and the native library loaded. */
  public boolean available() {
    return enabled && nativeAvailability().available();
  }

  /** Why {@link #available()} is false (empty when it is true). */
  public String unavailableReason() {
    if (!enabled) {
      return "WebP output is turned off on this server (imaging.webp)";
    }
    return nativeAvailability().reason();
  }

  /**
   * Encodes packed {@code 0xAARRGGBB} pixels (read in place, not copied).
   *
   * @param alpha   keep the alpha channel; false writes RGB (the top byte is ignored)
   * @param lossy   lossy at {@code quality} (1..100); false: lossless
   * @throws CodedException {@link ErrorCode#OUTPUT_FORMAT_UNAVAILABLE} where WebP cannot be written
   */
  public byte[] encode(int w, int h, int[] argb, boolean alpha, boolean lossy, int quality) {
    if (w <= 0 || h <= 0 || argb == null || argb.length < (long) w * h) {
      throw new IllegalArgumentException("bad image: " + w + "x" + h);
    }
    if (!available()) {
      throw new CodedException(ErrorCode.OUTPUT_FORMAT_UNAVAILABLE, unavailableReason() + "; use png or jpg");
    }
    return write(image(w, h, argb, alpha), lossy, lossy ? quality : effort);
  }

  private static BufferedImage image(int w, int h, int[] argb, boolean alpha) {
    int[] masks = alpha ? ARGB_MASKS : RGB_MASKS;
    WritableRaster raster = Raster.createPackedRaster(new DataBufferInt(argb, w * h), w, h, w, masks, null);
    DirectColorModel cm = alpha ? new DirectColorModel(ARGB_BITS, masks[0], masks[1], masks[2], masks[3])
        : new DirectColorModel(RGB_BITS, masks[0], masks[1], masks[2]);
    return new BufferedImage(cm, raster, false, null);
  }

  /** @param quality lossy: quality 1..100; lossless: effort 0..100 */
  private static byte[] write(BufferedImage img, boolean lossy, int quality) {
    ImageWriter writer = writer();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(img.getWidth() * img.getHeight() / PIXELS_PER_EXPECTED_BYTE
        + 1024);
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionType(lossy ? LOSSY : LOSSLESS);
      // lossy: the picture's quality; lossless: how hard libwebp searches (the pixels are exact either way)
      param.setCompressionQuality(quality / PERCENT);
      if (!lossy) {
        ((WebPWriteParam) param).setMethod(MIN_METHOD + Math.round(quality * (MAX_METHOD - MIN_METHOD) / PERCENT));
      }
      writer.write(null, new IIOImage(img, null, null), param);
    } catch (IOException e) {
      throw new UncheckedIOException("WebP encoding failed", e); // in-memory output: not expected
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }

  private static ImageWriter writer() {
    try {
      return new WebPImageWriterSpi().createWriterInstance();
    } catch (IOException e) {
      throw new UncheckedIOException("no WebP writer", e);
    }
  }

  /** Loads the native library by writing one pixel, and keeps its decoder out of ImageIO. */
  private static Object probeNative() {
    // uploads must only ever meet the pure-Java TwelveMonkeys WebP reader, never native decoding code
    IIORegistry registry = IIORegistry.getDefaultInstance();
    List<ImageReaderSpi> nativeReaders = new ArrayList<>();
    for (Iterator<ImageReaderSpi> it = registry.getServiceProviders(ImageReaderSpi.class, false); it.hasNext(); ) {
      ImageReaderSpi spi = it.next();
      if (spi.getClass().getName().equals(READER_SPI)) {
        nativeReaders.add(spi);
      }
    }
    nativeReaders.forEach(spi -> registry.deregisterServiceProvider(spi, ImageReaderSpi.class));
    byte[] probe = write(image(1, 1, new int[] {0x80FF0000}, true), false, 0);
    LOG.info("event=webp_ready probe_bytes=" + probe.length);
    return probe;
  }
}
