package io.unimatte.imaging;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.awt.image.DirectColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Baseline JPEG through ImageIO's writer. JPEG has no alpha: the top byte of each pixel is ignored,
 * so composite first ({@link Compositor#onBackground}). Thread-safe: each call uses its own writer.
 */
public final class JpegEncoder {

  /** Quality used by {@link #JpegEncoder()}. */
  public static final float DEFAULT_QUALITY = 0.9f;

  private static final int[] RGB_MASKS = {0xFF0000, 0xFF00, 0xFF};
  private static final int RGB_BITS = 24;

  private final float quality;

  /** An encoder at {@link #DEFAULT_QUALITY}. */
  public JpegEncoder() {
    this(DEFAULT_QUALITY);
  }

  /** @param quality 0 (smallest) to 1 (best) */
  public JpegEncoder(float quality) {
    if (!(quality >= 0f && quality <= 1f)) {
      throw new IllegalArgumentException("quality must be in [0, 1]: " + quality);
    }
    this.quality = quality;
  }

  public float quality() {
    return quality;
  }

  /** Encodes packed {@code 0x??RRGGBB} pixels (read in place, not copied). */
  public byte[] encode(int w, int h, int[] argb) {
    if (w <= 0 || h <= 0 || argb == null || argb.length < (long) w * h) {
      throw new IllegalArgumentException("bad image: " + w + "x" + h);
    }
    // Wrap the caller's array as an INT_RGB image: the colour model just ignores the alpha byte.
    WritableRaster raster = Raster.createPackedRaster(new DataBufferInt(argb, w * h), w, h, w, RGB_MASKS, null);
    BufferedImage img = new BufferedImage(new DirectColorModel(RGB_BITS, RGB_MASKS[0], RGB_MASKS[1], RGB_MASKS[2]),
        raster, false, null);
    Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("jpeg");
    if (!writers.hasNext()) {
      throw new IllegalStateException("no JPEG writer installed");
    }
    ImageWriter writer = writers.next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(w * h / 4 + 1024);
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(quality);
      writer.write(null, new IIOImage(img, null, null), param);
    } catch (IOException e) {
      throw new UncheckedIOException("JPEG encoding failed", e); // in-memory output: not expected
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }
}
