package io.unimatte.imaging;

import java.util.Objects;
import javax.imageio.stream.ImageInputStreamImpl;

/**
 * Seekable ImageIO stream over a byte array. ImageIO's own streams for an InputStream copy the data
 * into a cache (memory or a temp file); the whole input is already in memory here, so read it in place.
 */
final class ByteArrayImageInputStream extends ImageInputStreamImpl {

  private final byte[] data;

  ByteArrayImageInputStream(byte[] data) {
    this.data = Objects.requireNonNull(data);
  }

  @Override
  public int read() throws java.io.IOException {
    checkClosed();
    bitOffset = 0;
    if (streamPos >= data.length) {
      return -1;
    }
    return data[(int) streamPos++] & 0xFF;
  }

  @Override
  public int read(byte[] b, int off, int len) throws java.io.IOException {
    checkClosed();
    Objects.checkFromIndexSize(off, len, b.length);
    bitOffset = 0;
    if (len == 0) {
      return 0;
    }
    if (streamPos >= data.length) {
      return -1;
    }
    int n = (int) Math.min(len, data.length - streamPos);
    System.arraycopy(data, (int) streamPos, b, off, n);
    streamPos += n;
    return n;
  }

  @Override
  public long length() {
    return data.length;
  }
}
