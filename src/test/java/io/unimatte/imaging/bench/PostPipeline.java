package io.unimatte.imaging.bench;

import io.unimatte.imaging.DecodedImage;
import io.unimatte.imaging.MatteConfidence;
import io.unimatte.imaging.PngEncoder;
import io.unimatte.imaging.Resizer;
import io.unimatte.imaging.output.OutputOptions;
import io.unimatte.imaging.output.OutputRenderer;
import io.unimatte.imaging.output.QualitySettings;
import io.unimatte.imaging.refine.ForegroundEstimator;
import io.unimatte.imaging.refine.RefineOptions;

/**
 * The server's post-processing of one image (what {@code DefaultMattingService.finish} does after
 * inference, with the shipped defaults: a refined cutout with estimated colours, PNG level 4), called
 * through public entry points that every version of the imaging package since issue 7 has, so that
 * {@link PostBench} can load this class once per version (its own class loader each) and compare
 * them in one JVM. Only JDK types cross the class-loader boundary.
 */
public final class PostPipeline {

  /** Stages timed by {@link #run}, in order. */
  public static final String[] STAGES = {"upscale", "confidence", "refine", "render"};

  private static final QualitySettings QUALITY = new QualitySettings(true, true, RefineOptions.DEFAULTS,
      new ForegroundEstimator(), MatteConfidence.DEFAULT_REVIEW_THRESHOLD);
  private static final OutputOptions CUTOUT = OutputOptions.DEFAULT;
  /**
   * {@code -Dunimatte.pngLevel=L} and {@code -Dunimatte.pngDeflate=zlib|runs}, or per build
   * {@code -Dunimatte.pngLevel.A=L}, {@code -Dunimatte.pngDeflate.B=runs} (the class loader's name).
   */
  private static final PngEncoder PNG = png();
  /**
   * {@code -Dunimatte.parts=N}: the split the server allows when its pool is otherwise idle (builds
   * without {@code imaging.Parallel} ignore it). Looked up by reflection, so this class still links
   * against older builds.
   */
  private static final int PARTS = Integer.getInteger("unimatte.parts", 1);

  /**
   * {@code -Dunimatte.clock=cpu}: CPU time of the calling thread instead of wall time, far steadier on a
   * busy machine (but blind to work handed to other threads).
   */
  private static final boolean CPU_CLOCK = "cpu".equals(System.getProperty("unimatte.clock"));
  private static final java.lang.management.ThreadMXBean THREADS =
      java.lang.management.ManagementFactory.getThreadMXBean();

  private PostPipeline() {
  }

  private static long now() {
    return CPU_CLOCK ? THREADS.getCurrentThreadCpuTime() : System.nanoTime();
  }

  /**
   * One image through upscale, confidence, refine and render (colour estimation, compose, PNG).
   *
   * @param nanos receives the nanoseconds per stage of {@link #STAGES}
   * @return the PNG
   */
  public static byte[] run(int w, int h, int[] argb, float[] model, int mw, int mh, long[] nanos) {
    return split(() -> runSplit(w, h, argb, model, mw, mh, nanos));
  }

  @SuppressWarnings("unchecked")
  private static <T> T split(java.util.function.Supplier<T> work) {
    if (PARTS <= 1) {
      return work.get();
    }
    try {
      Class<?> parallel = Class.forName("io.unimatte.imaging.Parallel");
      return (T) parallel.getMethod("with", int.class, java.util.function.Supplier.class).invoke(null, PARTS, work);
    } catch (ClassNotFoundException e) {
      return work.get();
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] runSplit(int w, int h, int[] argb, float[] model, int mw, int mh, long[] nanos) {
    DecodedImage img = new DecodedImage(w, h, argb, "jpeg", false, 1);
    long t0 = now();
    byte[] alpha = Resizer.upscaleAlpha(model, mw, mh, w, h);
    long t1 = now();
    MatteConfidence.of(alpha, w, h);
    long t2 = now();
    byte[] refined = OutputRenderer.refineAlpha(img, alpha, CUTOUT, QUALITY);
    long t3 = now();
    byte[] png = OutputRenderer.renderRefined(img, refined, CUTOUT, PNG, QUALITY).bytes();
    long t4 = now();
    nanos[0] = t1 - t0;
    nanos[1] = t2 - t1;
    nanos[2] = t3 - t2;
    nanos[3] = t4 - t3;
    return png;
  }

  /** Stages of {@link #render}, timed one by one on the refined matte. */
  public static final String[] RENDER_STAGES = {"colour", "encode"};

  /**
   * The render stage split: foreground colours of {@code refined}, then the PNG of that (its alpha is the
   * matte: what the cutout composes to for an opaque photo).
   */
  public static byte[] render(int w, int h, int[] argb, byte[] refined, long[] nanos) {
    return split(() -> renderSplit(w, h, argb, refined, nanos));
  }

  private static byte[] renderSplit(int w, int h, int[] argb, byte[] refined, long[] nanos) {
    DecodedImage img = new DecodedImage(w, h, argb, "jpeg", false, 1);
    long t0 = now();
    int[] fg = QUALITY.estimator().estimate(img, refined);
    long t1 = now();
    byte[] png = PNG.encodeRgba(w, h, fg);
    long t2 = now();
    nanos[0] = t1 - t0;
    nanos[1] = t2 - t1;
    return png;
  }

  /** The upscaled and refined matte, for {@link #render}. */
  public static byte[] refined(int w, int h, int[] argb, float[] model, int mw, int mh) {
    DecodedImage img = new DecodedImage(w, h, argb, "jpeg", false, 1);
    return OutputRenderer.refineAlpha(img, Resizer.upscaleAlpha(model, mw, mh, w, h), CUTOUT, QUALITY);
  }

  private static PngEncoder png() {
    String build = PostPipeline.class.getClassLoader().getName();
    int level = Integer.getInteger("unimatte.pngLevel." + build,
        Integer.getInteger("unimatte.pngLevel", PngEncoder.DEFAULT_LEVEL));
    String deflate = System.getProperty("unimatte.pngDeflate." + build, System.getProperty("unimatte.pngDeflate"));
    // only named when asked for, so that builds older than the choice still link
    return deflate == null ? new PngEncoder(level) : new PngEncoder(PngEncoder.Deflate.parse(deflate), level);
  }
}
