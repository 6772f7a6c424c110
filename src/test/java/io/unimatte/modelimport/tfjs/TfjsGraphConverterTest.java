package io.unimatte.modelimport.tfjs;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.unimatte.modelimport.UnsupportedOpException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static io.unimatte.modelimport.tfjs.TfjsTestModel.attr;
import static io.unimatte.modelimport.tfjs.TfjsTestModel.b64;
import static io.unimatte.modelimport.tfjs.TfjsTestModel.ints;
import static io.unimatte.modelimport.tfjs.TfjsTestModel.strings;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hand-written TF.js graph model (fused conv + ReLU, fused depthwise conv + ReLU6, a
 * uint8-quantised bias, float weights, an int32 constant, two inputs baked in as constants)
 * converts to a SavedModel whose output matches the arithmetic done here by hand.
 */
class TfjsGraphConverterTest {
  private static final int S = 4;
  private static final int N = 2;
  /** Conv 1×1 weights, HWIO [1, 1, 3, 2]: row = input channel. */
  private static final float[] W1 = {1f, 0.5f, -1f, 0.25f, 0.5f, -2f};
  /** Bias of the conv, stored as uint8 q with min −1, scale 0.5: q = {1, 4} → {−0.5, 1.0}. */
  private static final int[] B1_Q = {1, 4};
  private static final double[] B1 = {-0.5, 1.0};
  /** Depthwise 1×1 weights [1, 1, 2, 1] and bias. */
  private static final float[] W2 = {2f, -1f};
  private static final float[] B2 = {0.5f, 3f};
  private static final float GAIN = 2f;
  private static final float OFFSET = 0.25f;
  private static final double TOLERANCE = 1e-5;

  @TempDir
  Path tmp;

  private static TfjsTestModel tinyModel() {
    TfjsTestModel m = new TfjsTestModel()
        .placeholder("x").placeholder("gain").placeholder("offset")
        .floatConst("w1", new long[] {1, 1, 3, 2}, W1)
        .quantisedConst("b1", new long[] {2}, -1, 0.5, B1_Q)
        .floatConst("w2", new long[] {1, 1, 2, 1}, W2)
        .floatConst("b2", new long[] {2}, B2)
        .intConst("axis", new long[] {1}, 3);
    ObjectNode conv = attr(m.op("conv", "_FusedConv2D", "x", "w1", "b1"));
    convAttrs(conv);
    strings(conv, "fused_ops", "BiasAdd", "Relu");
    conv.putObject("epsilon").put("f", 0);
    ObjectNode dw = attr(m.op("dw", "FusedDepthwiseConv2dNative", "conv", "w2", "b2"));
    convAttrs(dw);
    strings(dw, "fused_ops", "BiasAdd", "Relu6");
    ObjectNode mean = attr(m.op("mean", "Mean", "dw", "axis"));
    mean.putObject("Tidx").put("type", "DT_INT32");
    mean.putObject("keep_dims").put("b", true);
    m.op("scaled", "Mul", "mean", "gain");
    m.op("sum", "AddV2", "scaled", "offset");
    m.op("Identity", "Identity", "sum");
    return m.output("out", "Identity:0");
  }

  private static void convAttrs(ObjectNode a) {
    ints(a, "strides", 1, 1, 1, 1);
    ints(a, "dilations", 1, 1, 1, 1);
    a.putObject("padding").put("s", b64("VALID"));
    a.putObject("data_format").put("s", b64("NHWC"));
    a.putObject("num_args").put("i", "1");
    a.putObject("explicit_paddings").putObject("list");
  }

  /** The tiny model's output for one pixel, computed by hand. */
  private static double expected(float r, float g, float b) {
    float[] x = {r, g, b};
    double sum = 0;
    for (int o = 0; o < 2; o++) {
      double c = B1[o];
      for (int i = 0; i < 3; i++) {
        c += x[i] * W1[i * 2 + o];
      }
      c = Math.max(0, c);
      double d = Math.min(6, Math.max(0, c * W2[o] + B2[o]));
      sum += d;
    }
    return sum / 2 * GAIN + OFFSET;
  }

  @Test
  void convertedGraphComputesWhatTheTfjsGraphDescribes() throws Exception {
    Path json = tinyModel().write(tmp.resolve("tfjs"));
    Path saved = tmp.resolve("saved");
    TfjsGraphConverter.convert(TfjsGraphReader.read(json),
        new TfjsGraphConverter.Binding("x", S, Map.of("gain", GAIN, "offset", OFFSET), "out"), saved);
    assertTrue(Files.isRegularFile(saved.resolve("saved_model.pb")));

    float[] in = new float[N * S * S * 3];
    for (int i = 0; i < in.length; i++) {
      in[i] = (i * 37 % 17) / 4f - 1f; // −1 .. 3: drives both ReLU and ReLU6 into their clipped ranges
    }
    float[] got = new float[N * S * S];
    try (SavedModelBundle bundle = SavedModelBundle.loader(saved.toString()).withTags("serve").load();
         TFloat32 x = TFloat32.tensorOf(Shape.of(N, S, S, 3), DataBuffers.of(in, true, false));
         Result r = bundle.function("serving_default").call(Map.<String, Tensor>of("image", x))) {
      TFloat32 alpha = (TFloat32) r.get("alpha").orElseThrow();
      assertEquals(Shape.of(N, S, S, 1), alpha.shape());
      alpha.asRawTensor().data().asFloats().read(got);
    }
    float[] want = new float[got.length];
    boolean clipped6 = false;
    for (int p = 0; p < got.length; p++) {
      want[p] = (float) expected(in[p * 3], in[p * 3 + 1], in[p * 3 + 2]);
      clipped6 |= in[p * 3] * W1[0] + in[p * 3 + 1] * W1[2] + in[p * 3 + 2] * W1[4] + B1[0] > 2.75;
    }
    assertTrue(clipped6, "the test input should reach ReLU6's upper bound somewhere");
    assertArrayEquals(want, got, (float) TOLERANCE);
  }

  @Test
  void opUnknownToTensorFlowIsNamedInTheError() throws Exception {
    TfjsTestModel m = new TfjsTestModel().placeholder("x");
    m.op("warp", "MyCustomWarp", "x");
    m.op("Identity", "Identity", "warp");
    Path json = m.output("out", "Identity:0").write(tmp.resolve("bad"));
    Path saved = tmp.resolve("bad-saved");
    UnsupportedOpException e = assertThrows(UnsupportedOpException.class, () -> TfjsGraphConverter.convert(
        TfjsGraphReader.read(json), new TfjsGraphConverter.Binding("x", S, Map.of(), "out"), saved));
    assertEquals("MyCustomWarp", e.opType());
    assertTrue(e.getMessage().contains("TF.js op 'MyCustomWarp'") && e.getMessage().contains("'warp'")
        && e.getMessage().contains("TensorFlow"), e.getMessage());
    assertFalse(Files.exists(saved.resolve("saved_model.pb")));
  }

  @Test
  void fusedDepthwiseWithAnActivationTensorFlowCannotFuseIsRefused() throws Exception {
    TfjsTestModel m = new TfjsTestModel().placeholder("x")
        .floatConst("w", new long[] {1, 1, 3, 1}, 1f, 1f, 1f)
        .floatConst("b", new long[] {3}, 0f, 0f, 0f)
        .floatConst("slope", new long[] {3}, 0.1f, 0.1f, 0.1f);
    ObjectNode dw = attr(m.op("dw", "FusedDepthwiseConv2dNative", "x", "w", "b", "slope"));
    convAttrs(dw);
    strings(dw, "fused_ops", "BiasAdd", "Prelu");
    Path json = m.output("out", "dw:0").write(tmp.resolve("prelu"));
    UnsupportedOpException e = assertThrows(UnsupportedOpException.class, () -> TfjsGraphConverter.convert(
        TfjsGraphReader.read(json), new TfjsGraphConverter.Binding("x", S, Map.of(), "out"), tmp.resolve("p")));
    assertTrue(e.getMessage().contains("FusedDepthwiseConv2dNative") && e.getMessage().contains("Prelu")
        && e.getMessage().contains("'dw'"), e.getMessage());
  }

  @Test
  void truncatedWeightShardIsReportedWithTheWeightName() throws Exception {
    Path json = tinyModel().write(tmp.resolve("short"));
    Path bin = json.resolveSibling("weights.bin");
    byte[] all = Files.readAllBytes(bin);
    Files.write(bin, java.util.Arrays.copyOf(all, all.length - 2));
    TfjsFormatException e = assertThrows(TfjsFormatException.class, () -> TfjsGraphReader.read(json));
    assertTrue(e.getMessage().contains("'axis'"), e.getMessage());
  }
}
