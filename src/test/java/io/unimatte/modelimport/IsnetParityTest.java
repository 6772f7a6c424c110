package io.unimatte.modelimport;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.ImageDecoder;
import io.unimatte.imaging.Resizer;
import io.unimatte.inference.MattingSession;
import io.unimatte.modelimport.ModelDescriptor;
import io.unimatte.testing.RealModel;
import io.unimatte.testing.TestPhotos;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The imported SavedModel reproduces ONNX Runtime on the same ONNX file and the same
 * preprocessed input (resize to 1024², (v − 128) / 256), on real photos.
 */
@Tag("model")
class IsnetParityTest {
  private static final double MAX_ABS = 0.005;
  private static final double MEAN_ABS = 0.0005;
  private static OrtEnvironment env;
  private static OrtSession ort;
  private static MattingSession tf;

  @BeforeAll
  static void load() throws Exception {
    tf = RealModel.session();
    env = OrtEnvironment.getEnvironment();
    OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
    opts.setIntraOpNumThreads(2);
    ort = env.createSession(ModelImporter.isnetOnnx(RealModel.MODELS_DIR).toString(), opts);
  }

  @AfterAll
  static void close() throws Exception {
    if (ort != null) {
      ort.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"astronaut.png", "chelsea.png", "coffee.png"})
  void savedModelMatchesOnnxRuntime(String photo) throws Exception {
    ModelDescriptor d = tf.descriptor();
    int s = d.input().size();
    assertArrayEquals(new float[] {128, 128, 128}, d.input().mean());
    assertArrayEquals(new float[] {256, 256, 256}, d.input().std());
    DecodedImage img = new ImageDecoder().decode(TestPhotos.bytes(photo));
    float[] nhwc = Resizer.toModelInput(img, s, d.input().mean(), d.input().std(), null, 0);
    float[] nchw = new float[nhwc.length];
    int plane = s * s;
    for (int i = 0; i < plane; i++) {
      for (int c = 0; c < 3; c++) {
        nchw[c * plane + i] = nhwc[i * 3 + c];
      }
    }
    float[] mine = tf.run(List.of(new io.unimatte.inference.ModelInput(nhwc, s, s))).get(0);
    float[] ref;
    try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(nchw), new long[] {1, 3, s, s});
         OrtSession.Result r = ort.run(Map.of("input", in), java.util.Set.of("output"))) {
      FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
      ref = new float[fb.remaining()];
      fb.get(ref);
    }
    double max = 0;
    double sum = 0;
    double fg = 0;
    for (int i = 0; i < ref.length; i++) {
      double diff = Math.abs(mine[i] - ref[i]);
      max = Math.max(max, diff);
      sum += diff;
      fg += ref[i];
    }
    double mean = sum / ref.length;
    System.out.printf("parity %s: max abs diff %.6f, mean abs diff %.7f, foreground fraction %.3f%n",
        photo, max, mean, fg / ref.length);
    assertTrue(fg / ref.length > 0.02, "the reference must see a subject, or the comparison means little");
    assertTrue(max <= MAX_ABS, photo + ": max abs diff " + max);
    assertTrue(mean <= MEAN_ABS, photo + ": mean abs diff " + mean);
  }
}
