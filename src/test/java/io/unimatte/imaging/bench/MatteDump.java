package io.unimatte.imaging.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.ImageDecoder;
import io.unimatte.imaging.Resizer;
import io.unimatte.modelimport.ModelDescriptor;
import io.unimatte.modelimport.ModelImporter;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Saves ISNet's own matte (the model's 1024² float output, before any upscaling) of every photo in the
 * given folders, for benchmarks that replay the server's post-processing without running the model
 * each time ({@link PostBench}). Not a test. ONNX Runtime on the same ONNX file the server imports
 * (its matte differs from TF Java's by rounding only). Usage:
 * {@code MatteDump OUT_DIR PHOTO_DIR...}; writes {@code OUT_DIR/<photo file name>.f32}: width and
 * height as big-endian ints, then the floats row by row.
 */
public final class MatteDump {

  private MatteDump() {
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: MatteDump OUT_DIR PHOTO_DIR...");
      System.exit(2);
    }
    Path out = Files.createDirectories(Path.of(args[0]));
    Path models = Path.of("models");
    ModelDescriptor d = ModelDescriptor.read(ModelImporter.ensureIsnet(models));
    int s = d.input().size();
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    OrtSession.SessionOptions o = new OrtSession.SessionOptions();
    o.setIntraOpNumThreads(Runtime.getRuntime().availableProcessors());
    ImageDecoder decoder = new ImageDecoder();
    try (OrtSession ort = env.createSession(ModelImporter.isnetOnnx(models).toString(), o)) {
      for (int a = 1; a < args.length; a++) {
        List<Path> photos;
        try (Stream<Path> files = Files.list(Path.of(args[a]))) {
          photos = files.filter(p -> p.toString().matches("(?i).*\\.(png|jpe?g)$")).sorted().toList();
        }
        for (Path p : photos) {
          Path target = out.resolve(p.getFileName() + ".f32");
          if (Files.exists(target)) {
            continue;
          }
          DecodedImage img = decoder.decode(Files.readAllBytes(p));
          float[] x = Resizer.toModelInput(img, s, d.input().mean(), d.input().std(), null, 0);
          float[] nchw = new float[x.length];
          for (int i = 0; i < s * s; i++) {
            for (int c = 0; c < 3; c++) {
              nchw[c * s * s + i] = x[i * 3 + c];
            }
          }
          long t = System.nanoTime();
          try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(nchw), new long[] {1, 3, s, s});
               OrtSession.Result res = ort.run(Map.of("input", in), Set.of("output"))) {
            FloatBuffer fb = ((OnnxTensor) res.get(0)).getFloatBuffer();
            write(target, s, s, fb);
          }
          System.out.printf("%s: %d ms%n", p.getFileName(), (System.nanoTime() - t) / 1_000_000);
        }
      }
    }
  }

  private static void write(Path target, int w, int h, FloatBuffer fb) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".part");
    try (OutputStream os = Files.newOutputStream(tmp);
         DataOutputStream dos = new DataOutputStream(new java.io.BufferedOutputStream(os, 1 << 16))) {
      dos.writeInt(w);
      dos.writeInt(h);
      for (int i = 0; i < w * h; i++) {
        dos.writeFloat(Math.min(1f, Math.max(0f, fb.get(i))));
      }
    }
    Files.move(tmp, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  /** Reads a file written by {@link #main}: {@code [width, height]} in {@code size}, the floats returned. */
  public static float[] read(Path file, int[] size) throws IOException {
    try (var in = new java.io.DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
      size[0] = in.readInt();
      size[1] = in.readInt();
      float[] f = new float[size[0] * size[1]];
      for (int i = 0; i < f.length; i++) {
        f[i] = in.readFloat();
      }
      return f;
    }
  }
}
