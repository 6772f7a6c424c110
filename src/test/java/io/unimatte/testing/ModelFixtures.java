package io.unimatte.testing;

import io.unimatte.modelimport.OnnxTestModel;
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
 * Small real models of each kind and contract, built with TF Java (and ONNX bytes), whose alpha is
 * a steep threshold of the first input channel: {@code alpha = sigmoid(GAIN · (c0 − ½))} with
 * {@code c0} the first channel in the model's colour order, scaled to 0..1. A red/blue photo shows
 * whether the colour order was honoured: red is opaque for RGB models, blue for BGR models.
 */
public final class ModelFixtures {
  /** Steepness of the threshold: 0 and 255 give alpha within 1e-8 of 0 and 1. */
  public static final float GAIN = 40f;
  private static final float BYTE = 255f;

  private ModelFixtures() {
  }

  /** Expected alpha for a pixel whose first channel (in the model's colour order) is {@code c0} (0..255). */
  public static double expectedAlpha(int c0) {
    return 1 / (1 + Math.exp(-GAIN * (c0 / 255.0 - 0.5)));
  }

  /**
   * A fixed-size NCHW SavedModel in {@code modelsDir/name/} with {@code model.json}: input {@code pixels}
   * [N,3,S,S] normalised as v / 255 in BGR order, output {@code matte} [N,1,S,S].
   */
  public static Path nchwSavedModel(Path modelsDir, String name, int size) throws IOException {
    Path dir = modelsDir.resolve(name);
    Files.createDirectories(dir);
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("pixels").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, 3, size, size)));
      var first = tf.reduceSum(tf.math.mul(x, tf.constant(new float[][][][] {{{{1f}}, {{0f}}, {{0f}}}})),
          tf.constant(new int[] {1}), org.tensorflow.op.core.ReduceSum.keepDims(true));
      var alpha = tf.withName("matte").math.sigmoid(tf.math.mul(tf.math.sub(first, tf.constant(0.5f)),
          tf.constant(GAIN)));
      try (Session s = new Session(g)) {
        SavedModelBundle.exporter(dir.toString()).withSession(s)
            .withSignature(Signature.builder().key("predict").input("pixels", x).output("matte", alpha).build())
            .export();
      }
    }
    Files.writeString(dir.resolve("model.json"), """
        {"name":"%s","purpose":"test: blue threshold (NCHW, BGR)","kind":"savedmodel","signature":"predict",
         "input":{"key":"pixels","layout":"NCHW","size":%d,"colorOrder":"BGR","mean":0,"std":255},
         "output":{"key":"matte","range":[0,1]},
         "license":{"weights":"test fixture"}}
        """.formatted(name, size));
    return dir;
  }

  /**
   * A CV-UNet-style frozen graph: {@code input_image:0} float32 [H,W,3] 0..255 (any size) →
   * {@code output_png:0} [H,W,4], the input's three channels followed by the alpha in 0..255.
   */
  public static void cvUnetFrozenGraph(Path file) throws IOException {
    Files.createDirectories(file.getParent());
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("input_image").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, -1, 3)));
      var first = tf.slice(x, tf.constant(new int[] {0, 0, 0}), tf.constant(new int[] {-1, -1, 1}));
      var alpha = tf.math.mul(tf.math.sigmoid(tf.math.mul(tf.math.sub(tf.math.div(first, tf.constant(BYTE)),
          tf.constant(0.5f)), tf.constant(GAIN))), tf.constant(BYTE));
      tf.withName("output_png").concat(List.of(x, alpha), tf.constant(2));
      Files.write(file, g.toGraphDef().toByteArray());
    }
  }

  /** An ONNX model: input {@code image} [1,3,S,S] (v / 255, RGB) → 1×1 conv on red → sigmoid → {@code mask}. */
  public static void onnxModel(Path file, int size) throws IOException {
    Files.createDirectories(file.getParent());
    byte[] bytes = new OnnxTestModel()
        .input("image", 1, 3, size, size)
        .output("mask", 1, 1, size, size)
        .node("conv", "Conv", List.of("image", "w", "b"), List.of("logit"),
            OnnxTestModel.attr("kernel_shape", new long[] {1, 1}))
        .node("sig", "Sigmoid", List.of("logit"), List.of("mask"))
        .floats("w", new long[] {1, 3, 1, 1}, new float[] {GAIN, 0f, 0f})
        .floats("b", new long[] {1}, new float[] {-GAIN / 2})
        .build(17);
    Files.write(file, bytes);
  }
}
