package io.unimatte.testing;

import org.tensorflow.Graph;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A tiny real SavedModel for tests, built with TF Java: alpha = sigmoid(GAIN · luminance) of the
 * normalised input, so bright pixels are foreground and dark ones background. Same contract as
 * the imported ISNet (NHWC {@code image} in, {@code alpha} [N,S,S,1] out), at a small size.
 */
public final class TinyModel {
  /** Input size of the tiny model. */
  public static final int SIZE = 32;
  /** Steepness of the luminance threshold. */
  public static final float GAIN = 40f;
  /** Same normalisation as ISNet: (v − 128) / 256. */
  public static final float MEAN = 128f;
  public static final float STD = 256f;

  private TinyModel() {
  }

  /** Expected alpha in [0,1] for an sRGB pixel (before any resizing). */
  public static double expectedAlpha(int r, int g, int b) {
    double lum = 0.299 * (r - MEAN) / STD + 0.587 * (g - MEAN) / STD + 0.114 * (b - MEAN) / STD;
    return 1 / (1 + Math.exp(-GAIN * lum));
  }

  /** Writes the model as {@code modelsDir/<name>/} (SavedModel + model.json); returns that folder. */
  public static Path write(Path modelsDir, String name) throws IOException {
    Path dir = modelsDir.resolve(name);
    Files.createDirectories(dir);
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> image = tf.withName("image").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, SIZE, SIZE, 3)));
      var filter = tf.constant(new float[][][][] {{{{0.299f}, {0.587f}, {0.114f}}}});
      var lum = tf.nn.conv2d(image, filter, List.of(1L, 1L, 1L, 1L), "VALID");
      var alpha = tf.withName("alpha").math.sigmoid(tf.math.mul(lum, tf.constant(GAIN)));
      try (Session s = new Session(g)) {
        SavedModelBundle.exporter(dir.toString())
            .withSession(s)
            .withSignature(Signature.builder().key("serving_default").input("image", image)
                .output("alpha", alpha).build())
            .export();
      }
    }
    Files.writeString(dir.resolve("model.json"), """
        {"name":"%s","purpose":"test: luminance threshold","format":"savedmodel",
         "signature":"serving_default","tags":["serve"],
         "input":{"key":"image","layout":"NHWC","size":%d,"colorOrder":"RGB","mean":[128,128,128],"std":[256,256,256]},
         "output":{"key":"alpha","range":[0,1]},
         "license":{"weights":"test"}}
        """.formatted(name, SIZE));
    return dir;
  }
}
