package io.unimatte.modelimport.tfjs;

import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.ImageDecoder;
import io.unimatte.imaging.PngEncoder;
import io.unimatte.imaging.Resizer;
import io.unimatte.inference.MattingSession;
import io.unimatte.modelimport.ModelDescriptor;
import io.unimatte.inference.ModelInput;
import io.unimatte.inference.SessionOptions;
import io.unimatte.inference.impl.TensorFlowMattingSession;
import io.unimatte.modelimport.ModelImporter;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Measures an RVM import variant: import time, inference time per image (median of 5 after 2
 * warm-ups) and the mattes of {@code ../shared/testdata/matting-dev} at the original sizes, for
 * {@code ../shared/tools/matte_eval.py}.
 *
 * <p>Usage (test classpath): {@code RvmBench SIZE RATIO OUT_DIR [IMAGES_DIR [MODELS_DIR]]}.
 */
public final class RvmBench {
  private static final int WARMUPS = 2;
  private static final int RUNS = 5;
  private static final int THREADS = 2;

  private RvmBench() {
  }

  public static void main(String[] args) throws Exception {
    int size = Integer.parseInt(args[0]);
    float ratio = Float.parseFloat(args[1]);
    Path out = Path.of(args[2]);
    Path photos = Path.of(args.length > 3 ? args[3] : "../shared/testdata/matting-dev/image");
    Path models = Path.of(args.length > 4 ? args[4] : "models");
    String name = "rvm-" + size + "-" + ratio;
    long t0 = System.nanoTime();
    Path dir = ModelImporter.ensureRvm(models, name, size, ratio);
    System.out.println("event=bench_import model=" + name + " ms=" + (System.nanoTime() - t0) / 1_000_000);
    Files.createDirectories(out);
    ModelDescriptor d = ModelDescriptor.read(dir);
    ImageDecoder decoder = new ImageDecoder();
    PngEncoder png = new PngEncoder();
    try (MattingSession s = TensorFlowMattingSession.load(d, new SessionOptions(THREADS, 1, false, false))) {
      List<Path> files;
      try (var st = Files.list(photos)) {
        files = st.sorted().toList();
      }
      List<Long> times = new ArrayList<>();
      for (Path f : files) {
        DecodedImage img = decoder.decode(Files.readAllBytes(f));
        ModelInput in = new ModelInput(Resizer.toModelInput(img, size, d.input().mean(), d.input().std(), null, 0),
            size, size);
        long t = System.nanoTime();
        float[] alpha = s.run(List.of(in)).get(0);
        times.add((System.nanoTime() - t) / 1_000_000);
        byte[] grey = Resizer.upscaleAlpha(alpha, size, size, img.width(), img.height());
        Files.write(out.resolve(f.getFileName()), png.encodeGray(img.width(), img.height(), grey));
      }
      System.out.println("event=bench_first_runs ms=" + times);
      DecodedImage img = decoder.decode(Files.readAllBytes(files.get(0)));
      ModelInput in = new ModelInput(Resizer.toModelInput(img, size, d.input().mean(), d.input().std(), null, 0),
          size, size);
      for (int i = 0; i < WARMUPS; i++) {
        s.run(List.of(in));
      }
      long[] ms = new long[RUNS];
      for (int i = 0; i < RUNS; i++) {
        long t = System.nanoTime();
        s.run(List.of(in));
        ms[i] = (System.nanoTime() - t) / 1_000_000;
      }
      Arrays.sort(ms);
      System.out.println("event=bench_inference model=" + name + " median_ms=" + ms[RUNS / 2] + " all=" + Arrays.toString(ms));
    }
  }
}
