package io.unimatte.inference.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.ImageDecoder;
import io.unimatte.imaging.Resizer;
import io.unimatte.inference.MattingSession;
import io.unimatte.modelimport.ModelDescriptor;
import io.unimatte.inference.SessionOptions;
import io.unimatte.inference.impl.TensorFlowMattingSession;
import io.unimatte.modelimport.ModelImporter;
import io.unimatte.testing.TestPhotos;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Per-image inference time of ISNet (not a test): TF Java with the given session options, and
 * optionally ONNX Runtime Java on the same ONNX file. Prints the first run and the median of
 * the rest. Usage: {@code InferenceBench [tf|ort] runs batch intraOp interOp bf16(on|off) [fp16]}.
 */
public final class InferenceBench {
  private InferenceBench() {
  }

  public static void main(String[] args) throws Exception {
    String engine = args.length > 0 ? args[0] : "tf";
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    int batch = args.length > 2 ? Integer.parseInt(args[2]) : 1;
    int intra = args.length > 3 ? Integer.parseInt(args[3]) : 2;
    int inter = args.length > 4 ? Integer.parseInt(args[4]) : 1;
    boolean bf16 = args.length > 5 && args[5].equals("on");
    boolean fp16 = args.length > 6 && args[6].equals("fp16");
    Path models = Path.of("models");
    ModelDescriptor d = ModelDescriptor.read(ModelImporter.ensureIsnet(models));
    DecodedImage img = new ImageDecoder().decode(TestPhotos.bytes("astronaut.png"));
    float[] x = Resizer.toModelInput(img, d.input().size(), d.input().mean(), d.input().std(), null, 0);
    List<Long> times = new ArrayList<>();
    if (engine.equals("ort")) {
      OrtEnvironment env = OrtEnvironment.getEnvironment();
      OrtSession.SessionOptions o = new OrtSession.SessionOptions();
      o.setIntraOpNumThreads(intra);
      int s = d.input().size();
      float[] nchw = new float[x.length];
      for (int i = 0; i < s * s; i++) {
        for (int c = 0; c < 3; c++) {
          nchw[c * s * s + i] = x[i * 3 + c];
        }
      }
      try (OrtSession ort = env.createSession(ModelImporter.isnetOnnx(models).toString(), o)) {
        for (int r = 0; r < runs; r++) {
          long t = System.nanoTime();
          try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(nchw), new long[] {1, 3, s, s});
               OrtSession.Result res = ort.run(Map.of("input", in), Set.of("output"))) {
            times.add((System.nanoTime() - t) / 1_000_000);
          }
        }
      }
    } else {
      try (MattingSession tf = TensorFlowMattingSession.load(d, new SessionOptions(intra, inter, bf16, fp16))) {
        List<io.unimatte.inference.ModelInput> in = Collections.nCopies(batch, new io.unimatte.inference.ModelInput(x, d.input().size(), d.input().size()));
        for (int r = 0; r < runs; r++) {
          long t = System.nanoTime();
          tf.run(in);
          times.add((System.nanoTime() - t) / 1_000_000 / batch);
        }
      }
    }
    long[] rest = times.subList(Math.min(2, times.size() - 1), times.size()).stream().mapToLong(Long::longValue).sorted().toArray();
    System.out.printf("RESULT engine=%s device=%s batch=%d intra=%d inter=%d bf16=%s onednn=%s first=%dms median(after 2 warm-ups)=%dms perImage all=%s%n",
        engine, System.getProperty("unimatte.device", "?"), batch, intra, inter, bf16, System.getenv().getOrDefault("TF_ENABLE_ONEDNN_OPTS", "default"),
        times.get(0), rest[rest.length / 2], times);
  }
}
