package io.unimatte.imaging;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorConvertOp;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;
import java.awt.image.DataBufferUShort;
import java.awt.image.DirectColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.SinglePixelPackedSampleModel;

/**
 * Turns whatever raster layout an ImageIO reader produced into packed 8-bit sRGB ARGB, applying the
 * EXIF orientation in the same pass so that rotated photos cost no extra full-size copy.
 *
 * <p>The common layouts (interleaved 8/16-bit RGB(A) and grey, 8-bit palette, packed int) are read
 * straight from the data arrays. Grey is replicated into R, G and B as stored: Java2D treats grey as
 * linear light and would brighten it, but grey PNG/JPEG/TIFF samples are gamma-encoded like sRGB.
 * Other colour spaces (CMYK or ICC-tagged TIFF) go through one bulk {@link ColorConvertOp}.
 */
final class ArgbConverter {

  private static final int OPAQUE = 0xFF000000;
  private static final int MAX_8BIT = 255;
  /** Rows converted per batch before scattering them into a rotated output, to keep writes cache-friendly. */
  private static final int ROW_BATCH = 16;

  /** Fills {@code dst[off, off + width)} with row {@code y} as ARGB. */
  private interface RowReader {
    void read(int y, int[] dst, int off);
  }

  private ArgbConverter() {
  }

  /** The pixels of {@code img} as ARGB, rotated/flipped per EXIF {@code orientation}. */
  static int[] toArgb(BufferedImage img, int orientation) {
    int w = img.getWidth();
    int h = img.getHeight();
    int[] own = ownedArgbArray(img);
    if (own != null && orientation == ExifOrientation.NORMAL) {
      return own; // decoded straight into our layout: no copy at all
    }
    RowReader rows = own != null ? (y, dst, off) -> System.arraycopy(own, y * w, dst, off, w) : rowReader(img);
    int[] out = new int[w * h];
    if (orientation == ExifOrientation.NORMAL) {
      for (int y = 0; y < h; y++) {
        rows.read(y, out, y * w);
      }
      return out;
    }
    int[] place = ExifOrientation.placement(orientation, w, h);
    int origin = place[0];
    int stepX = place[1];
    int stepY = place[2];
    int[] batch = new int[ROW_BATCH * w];
    for (int y0 = 0; y0 < h; y0 += ROW_BATCH) {
      int n = Math.min(ROW_BATCH, h - y0);
      for (int r = 0; r < n; r++) {
        rows.read(y0 + r, batch, r * w);
      }
      if (Math.abs(stepX) == 1) {
        // mirrored/180°: source rows stay output rows
        for (int r = 0; r < n; r++) {
          int base = origin + (y0 + r) * stepY;
          int src = r * w;
          for (int x = 0; x < w; x++) {
            out[base + x * stepX] = batch[src + x];
          }
        }
      } else {
        // 90° variants: a source column becomes an output row; write n adjacent pixels per row
        for (int x = 0; x < w; x++) {
          int base = origin + x * stepX + y0 * stepY;
          for (int r = 0; r < n; r++) {
            out[base + r * stepY] = batch[r * w + x];
          }
        }
      }
    }
    return out;
  }

  /**
   * The image's own int array when it already is exactly non-premultiplied ARGB or RGB with no
   * padding; RGB is made opaque in place (the image is ours and discarded afterwards).
   */
  private static int[] ownedArgbArray(BufferedImage img) {
    int type = img.getType();
    if (type != BufferedImage.TYPE_INT_ARGB && type != BufferedImage.TYPE_INT_RGB) {
      return null;
    }
    Raster raster = img.getRaster();
    if (!(raster.getSampleModel() instanceof SinglePixelPackedSampleModel sm)
        || !(raster.getDataBuffer() instanceof DataBufferInt db)) {
      return null;
    }
    int[] data = db.getData();
    int n = img.getWidth() * img.getHeight();
    if (db.getOffset() != 0 || data.length != n || sm.getScanlineStride() != img.getWidth()
        || raster.getSampleModelTranslateX() != 0 || raster.getSampleModelTranslateY() != 0) {
      return null;
    }
    if (type == BufferedImage.TYPE_INT_RGB) {
      for (int i = 0; i < n; i++) {
        data[i] |= OPAQUE;
      }
    }
    return data;
  }

  private static RowReader rowReader(BufferedImage img) {
    ColorModel cm = img.getColorModel();
    Raster raster = img.getRaster();
    DataBuffer db = raster.getDataBuffer();
    if (cm instanceof ComponentColorModel ccm && raster.getSampleModel() instanceof ComponentSampleModel sm
        && singleBank(sm)) {
      int csType = cm.getColorSpace().getType();
      boolean srgb = cm.getColorSpace().isCS_sRGB();
      boolean grey = csType == ColorSpace.TYPE_GRAY;
      if (srgb || grey) {
        if (db instanceof DataBufferByte bytes && allComponentBits(ccm, Byte.SIZE)) {
          return componentReader(raster, sm, ccm, bytes.getData(), bytes.getOffset(), grey);
        }
        if (db instanceof DataBufferUShort shorts && allComponentBits(ccm, Short.SIZE)) {
          return componentReader(raster, sm, ccm, shorts.getData(), shorts.getOffset(), grey);
        }
      } else if (db instanceof DataBufferByte || db instanceof DataBufferUShort) {
        return convertedReader(img);
      }
    }
    if (cm instanceof IndexColorModel icm) {
      return indexReader(raster, icm);
    }
    if (cm instanceof DirectColorModel dcm && db instanceof DataBufferInt ints
        && raster.getSampleModel() instanceof SinglePixelPackedSampleModel sm && isArgbMasks(dcm)) {
      return packedIntReader(raster, sm, ints, dcm.hasAlpha());
    }
    // Anything rarer (float TIFF, odd bit depths): correct but slower, one bulk call per row.
    int w = img.getWidth();
    return (y, dst, off) -> img.getRGB(0, y, w, 1, dst, off, w);
  }

  private static boolean singleBank(ComponentSampleModel sm) {
    for (int bank : sm.getBankIndices()) {
      if (bank != 0) {
        return false;
      }
    }
    return true;
  }

  private static boolean allComponentBits(ColorModel cm, int bits) {
    for (int s : cm.getComponentSize()) {
      if (s != bits) {
        return false;
      }
    }
    return true;
  }

  private static boolean isArgbMasks(DirectColorModel dcm) {
    return dcm.getRedMask() == 0xFF0000 && dcm.getGreenMask() == 0xFF00 && dcm.getBlueMask() == 0xFF
        && (!dcm.hasAlpha() || (dcm.getAlphaMask() == OPAQUE && !dcm.isAlphaPremultiplied()));
  }

  /** Index of sample 0 of (x = 0, y = 0) of the raster inside the data array. */
  private static int origin(Raster raster, ComponentSampleModel sm, int bufferOffset) {
    int smX = raster.getMinX() - raster.getSampleModelTranslateX();
    int smY = raster.getMinY() - raster.getSampleModelTranslateY();
    return bufferOffset + smY * sm.getScanlineStride() + smX * sm.getPixelStride();
  }

  private static RowReader componentReader(Raster raster, ComponentSampleModel sm, ComponentColorModel cm,
      byte[] data, int bufferOffset, boolean grey) {
    int w = raster.getWidth();
    int base = origin(raster, sm, bufferOffset);
    int scan = sm.getScanlineStride();
    int ps = sm.getPixelStride();
    int[] bo = sm.getBandOffsets();
    boolean alpha = cm.hasAlpha();
    boolean premultiplied = alpha && cm.isAlphaPremultiplied();
    int colours = grey ? 1 : 3;
    int oa = alpha ? bo[colours] : 0;
    if (grey) {
      int og = bo[0];
      return (y, dst, off) -> {
        int i = base + y * scan;
        for (int x = 0; x < w; x++, i += ps) {
          int v = data[i + og] & 0xFF;
          int a = alpha ? data[i + oa] & 0xFF : MAX_8BIT;
          if (premultiplied) {
            v = unpremultiply(v, a);
          }
          dst[off + x] = a << 24 | v << 16 | v << 8 | v;
        }
      };
    }
    int or = bo[0];
    int og = bo[1];
    int ob = bo[2];
    if (!alpha) {
      return (y, dst, off) -> {
        int i = base + y * scan;
        for (int x = 0; x < w; x++, i += ps) {
          dst[off + x] = OPAQUE | (data[i + or] & 0xFF) << 16 | (data[i + og] & 0xFF) << 8 | (data[i + ob] & 0xFF);
        }
      };
    }
    return (y, dst, off) -> {
      int i = base + y * scan;
      for (int x = 0; x < w; x++, i += ps) {
        int a = data[i + oa] & 0xFF;
        int r = data[i + or] & 0xFF;
        int g = data[i + og] & 0xFF;
        int b = data[i + ob] & 0xFF;
        if (premultiplied) {
          r = unpremultiply(r, a);
          g = unpremultiply(g, a);
          b = unpremultiply(b, a);
        }
        dst[off + x] = a << 24 | r << 16 | g << 8 | b;
      }
    };
  }

  private static RowReader componentReader(Raster raster, ComponentSampleModel sm, ComponentColorModel cm,
      short[] data, int bufferOffset, boolean grey) {
    int w = raster.getWidth();
    int base = origin(raster, sm, bufferOffset);
    int scan = sm.getScanlineStride();
    int ps = sm.getPixelStride();
    int[] bo = sm.getBandOffsets();
    boolean alpha = cm.hasAlpha();
    boolean premultiplied = alpha && cm.isAlphaPremultiplied();
    int colours = grey ? 1 : 3;
    int oa = alpha ? bo[colours] : 0;
    int or = bo[0];
    int og = grey ? bo[0] : bo[1];
    int ob = grey ? bo[0] : bo[2];
    return (y, dst, off) -> {
      int i = base + y * scan;
      for (int x = 0; x < w; x++, i += ps) {
        int a = alpha ? to8(data[i + oa]) : MAX_8BIT;
        int r = to8(data[i + or]);
        int g = to8(data[i + og]);
        int b = to8(data[i + ob]);
        if (premultiplied) {
          r = unpremultiply(r, a);
          g = unpremultiply(g, a);
          b = unpremultiply(b, a);
        }
        dst[off + x] = a << 24 | r << 16 | g << 8 | b;
      }
    };
  }

  private static RowReader indexReader(Raster raster, IndexColorModel icm) {
    int w = raster.getWidth();
    int[] lut = new int[Math.max(icm.getMapSize(), 1 << icm.getPixelSize())];
    icm.getRGBs(lut); // entries past the map size stay 0 (transparent black), as invalid indices should
    int minX = raster.getMinX();
    int minY = raster.getMinY();
    if (raster.getSampleModel() instanceof ComponentSampleModel sm && raster.getNumBands() == 1
        && raster.getDataBuffer() instanceof DataBufferByte bytes) {
      byte[] data = bytes.getData();
      int base = origin(raster, sm, bytes.getOffset());
      int scan = sm.getScanlineStride();
      int ps = sm.getPixelStride();
      return (y, dst, off) -> {
        int i = base + y * scan;
        for (int x = 0; x < w; x++, i += ps) {
          dst[off + x] = lut[data[i] & 0xFF];
        }
      };
    }
    // 1/2/4-bit packed palettes: let the sample model unpack one row at a time
    int[] samples = new int[w];
    return (y, dst, off) -> {
      raster.getSamples(minX, minY + y, w, 1, 0, samples);
      for (int x = 0; x < w; x++) {
        dst[off + x] = lut[samples[x]];
      }
    };
  }

  private static RowReader packedIntReader(Raster raster, SinglePixelPackedSampleModel sm, DataBufferInt db,
      boolean alpha) {
    int[] data = db.getData();
    int w = raster.getWidth();
    int scan = sm.getScanlineStride();
    int base = db.getOffset() + (raster.getMinY() - raster.getSampleModelTranslateY()) * scan
        + (raster.getMinX() - raster.getSampleModelTranslateX());
    int fill = alpha ? 0 : OPAQUE;
    return (y, dst, off) -> {
      int i = base + y * scan;
      for (int x = 0; x < w; x++) {
        dst[off + x] = data[i + x] | fill;
      }
    };
  }

  /** CMYK and ICC-tagged images: one bulk colour conversion (LCMS), then read as packed ints. */
  private static RowReader convertedReader(BufferedImage img) {
    boolean alpha = img.getColorModel().hasAlpha();
    BufferedImage rgb = new BufferedImage(img.getWidth(), img.getHeight(),
        alpha ? BufferedImage.TYPE_INT_ARGB : BufferedImage.TYPE_INT_RGB);
    new ColorConvertOp(null).filter(img, rgb);
    Raster raster = rgb.getRaster();
    return packedIntReader(raster, (SinglePixelPackedSampleModel) raster.getSampleModel(),
        (DataBufferInt) raster.getDataBuffer(), alpha);
  }

  private static int to8(short v) {
    return ((v & 0xFFFF) + 128) / 257; // round(v * 255 / 65535)
  }

  private static int unpremultiply(int c, int a) {
    if (a == 0) {
      return 0;
    }
    return Math.min(MAX_8BIT, (c * MAX_8BIT + (a >> 1)) / a);
  }
}
