package io.unimatte.modelimport;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.unimatte.modelimport.ModelDescriptor;
import io.unimatte.inference.SessionOptions;
import io.unimatte.inference.impl.TensorFlowMattingSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The importer on graphs built for the test: every op kind ISNet uses, nodes out of order, an
 * unused side branch; the SavedModel's output must equal ONNX Runtime's on the same ONNX bytes.
 */
class OnnxGraphConverterTest {
  private static final int S = 18;
  @TempDir
  Path tmp;

  private static float[] random(Random r, int n, float scale) {
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = (float) (r.nextGaussian() * scale);
    }
    return f;
  }

  /** ISNet's op mix in miniature. Output "y" is [1, 6, S, S]. */
  static byte[] miniIsnet() {
    Random r = new Random(7);
    OnnxTestModel m = new OnnxTestModel()
        .input("x", 1, 3, S, S)
        .output("y", 1, 6, S, S)
        // listed consumers first: the importer must sort
        .node("sig", "Sigmoid", List.of("g"), List.of("y"))
        .node("add", "Add", List.of("f", "f"), List.of("g"))
        .node("cat", "Concat", List.of("e", "d"), List.of("f"), OnnxTestModel.attr("axis", 1L))
        .node("resize", "Resize", List.of("c", "", "", "sizes"), List.of("e"),
            OnnxTestModel.attr("mode", "linear"),
            OnnxTestModel.attr("coordinate_transformation_mode", "half_pixel"))
        .node("sizes", "Concat", List.of("nc", "hw"), List.of("sizes"), OnnxTestModel.attr("axis", 0L))
        .node("slice", "Slice", List.of("shape", "starts", "ends"), List.of("hw"))
        .node("shape", "Shape", List.of("d"), List.of("shape"))
        .node("conv1", "Conv", List.of("xc", "w1", "b1"), List.of("a"),
            OnnxTestModel.attr("kernel_shape", new long[] {3, 3}),
            OnnxTestModel.attr("strides", new long[] {2, 2}),
            OnnxTestModel.attr("pads", new long[] {1, 1, 1, 1}))
        .node("relu", "Relu", List.of("a"), List.of("b"))
        .node("pool", "MaxPool", List.of("b"), List.of("c"),
            OnnxTestModel.attr("kernel_shape", new long[] {2, 2}),
            OnnxTestModel.attr("strides", new long[] {2, 2}),
            OnnxTestModel.attr("ceil_mode", 1L))
        .node("conv2", "Conv", List.of("xc", "w2", "b2"), List.of("d"),
            OnnxTestModel.attr("kernel_shape", new long[] {3, 3}),
            OnnxTestModel.attr("dilations", new long[] {2, 2}),
            OnnxTestModel.attr("pads", new long[] {2, 2, 2, 2}))
        .node("cast", "Cast", List.of("x"), List.of("xc"), OnnxTestModel.attr("to", 1L))
        .node("unused", "Relu", List.of("d"), List.of("side"))
        .floats("w1", new long[] {4, 3, 3, 3}, random(r, 108, 0.5f))
        .floats("b1", new long[] {4}, random(r, 4, 0.1f))
        .floats("w2", new long[] {2, 3, 3, 3}, random(r, 54, 0.5f))
        .floats("b2", new long[] {2}, random(r, 2, 0.1f))
        .longs("nc", new long[] {1, 4})
        .longs("starts", new long[] {2})
        .longs("ends", new long[] {4});
    return m.build(13);
  }

  @Test
  void importedGraphMatchesOnnxRuntime() throws Exception {
    byte[] onnx = miniIsnet();
    Path onnxFile = tmp.resolve("mini.onnx");
    Files.write(onnxFile, onnx);
    Path saved = tmp.resolve("mini");
    OnnxGraphConverter.convert(OnnxModelReader.read(onnxFile), "y", S, saved);
    Files.writeString(saved.resolve("model.json"), """
        {"name":"mini","input":{"key":"image","size":%d,"mean":[0,0,0],"std":[1,1,1]},"output":{"key":"alpha"}}
        """.formatted(S));

    Random r = new Random(11);
    float[] nchw = random(r, 3 * S * S, 1f);
    float[] nhwc = new float[nchw.length];
    for (int c = 0; c < 3; c++) {
      for (int i = 0; i < S * S; i++) {
        nhwc[i * 3 + c] = nchw[c * S * S + i];
      }
    }
    float[] ref;
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession ort = env.createSession(onnx, new OrtSession.SessionOptions());
         OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(nchw), new long[] {1, 3, S, S});
         OrtSession.Result res = ort.run(Map.of("x", in), Set.of("y"))) {
      FloatBuffer fb = ((OnnxTensor) res.get(0)).getFloatBuffer();
      ref = new float[fb.remaining()];
      fb.get(ref);
    }
    // the signature's output has all 6 channels; read them through the raw session
    try (var bundle = org.tensorflow.SavedModelBundle.load(saved.toString(), "serve");
         var x = org.tensorflow.types.TFloat32.tensorOf(org.tensorflow.ndarray.Shape.of(1, S, S, 3),
             org.tensorflow.ndarray.buffer.DataBuffers.of(nhwc, true, false));
         var result = bundle.session().runner().feed("image", x).fetch("alpha").run()) {
      var out = (org.tensorflow.types.TFloat32) result.get(0);
      assertEquals(org.tensorflow.ndarray.Shape.of(1, S, S, 6), out.shape());
      double max = 0;
      for (int c = 0; c < 6; c++) {
        for (int y = 0; y < S; y++) {
          for (int xx = 0; xx < S; xx++) {
            max = Math.max(max, Math.abs(out.getFloat(0, y, xx, c) - ref[(c * S + y) * S + xx]));
          }
        }
      }
      System.out.println("mini ISNet: max abs diff TF vs ONNX Runtime " + max);
      assertTrue(max < 1e-4, "max abs diff " + max);
    }
  }

  @Test
  void unsupportedOpIsNamedInTheError() throws Exception {
    byte[] onnx = new OnnxTestModel()
        .input("x", 1, 3, 8, 8)
        .output("y", 1, 3, 8, 8)
        .node("sig", "Sigmoid", List.of("h"), List.of("y"))
        .node("my_lstm", "LSTM", List.of("x"), List.of("h"))
        .build(13);
    Path f = tmp.resolve("bad.onnx");
    Files.write(f, onnx);
    UnsupportedOpException e = assertThrows(UnsupportedOpException.class,
        () -> OnnxGraphConverter.convert(OnnxModelReader.read(f), "y", 8, tmp.resolve("bad")));
    assertEquals("LSTM", e.opType());
    assertTrue(e.getMessage().contains("'LSTM'") && e.getMessage().contains("my_lstm")
        && e.getMessage().contains("Conv"), e.getMessage());
  }

  @Test
  void importedModelLoadsThroughTheServersSessionClass() throws Exception {
    Path onnxFile = tmp.resolve("mini.onnx");
    Files.write(onnxFile, miniIsnet());
    Path saved = tmp.resolve("mini");
    OnnxGraphConverter.convert(OnnxModelReader.read(onnxFile), "y", S, saved);
    Files.writeString(saved.resolve("model.json"), """
        {"name":"mini","input":{"key":"image","size":%d,"mean":[0,0,0],"std":[1,1,1]},"output":{"key":"alpha"}}
        """.formatted(S));
    try (var s = TensorFlowMattingSession.load(ModelDescriptor.read(saved), new SessionOptions(1, 1, false, false))) {
      // 6 output channels where the contract wants 1: the session must refuse, not misread
      assertThrows(IllegalStateException.class, () -> s.run(List.of(new io.unimatte.inference.ModelInput(new float[S * S * 3], S, S))));
    }
  }
}
