package io.unimatte.api;

import java.awt.image.BufferedImage;
import java.net.http.HttpResponse;

/** Test helpers of the api package for tests in other packages. */
public final class MatteApiTestAccess {
  private MatteApiTestAccess() {
  }

  /** A distinct PNG (width varies) with a white left half. */
  public static byte[] png(int width) throws Exception {
    BufferedImage img = new BufferedImage(width, 30, BufferedImage.TYPE_INT_RGB);
    img.getGraphics().fillRect(0, 0, width / 2, 30);
    return MatteApiTest.encode(img, "png");
  }

  /** The error code of a JSON error answer. */
  public static String code(HttpResponse<byte[]> r) {
    return MatteApiTest.error(r).getString("code");
  }
}
