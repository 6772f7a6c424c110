package io.unimatte.imaging;

/**
 * Precomputed 1-D resampling taps from {@code inSize} to {@code outSize} samples: output {@code i}
 * is {@code sum_k weights[i * stride + k] * in[start[i] + k]} for {@code k < count[i]}.
 *
 * <p>Pixel centres sit at half-integers (the "half-pixel" convention of TF/PyTorch). When shrinking,
 * the kernel is stretched by the ratio so every input pixel contributes (antialiasing). Taps outside
 * the image are folded onto the edge pixel (clamp-to-edge), which keeps the weights summing to 1 and
 * makes enlargement with {@link ResampleFilter#TRIANGLE} identical to TF's half-pixel ResizeBilinear.
 */
final class ResampleWeights {

  /** Taps below this are dropped from the ends of a window (they are rounding noise). */
  private static final double NEGLIGIBLE = 1e-7;

  final int[] start;
  final int[] count;
  final float[] weights;
  final int stride;
  /** The largest {@code count}: how many input rows one output row can need. */
  final int maxCount;

  private ResampleWeights(int[] start, int[] count, float[] weights, int stride, int maxCount) {
    this.start = start;
    this.count = count;
    this.weights = weights;
    this.stride = stride;
    this.maxCount = maxCount;
  }

  static ResampleWeights of(int inSize, int outSize, ResampleFilter filter) {
    double scale = (double) inSize / outSize;
    double filterScale = Math.max(scale, 1.0);
    double support = filter.support * filterScale;
    int stride = (int) Math.ceil(2 * support) + 2;
    int[] start = new int[outSize];
    int[] count = new int[outSize];
    float[] weights = new float[outSize * stride];
    double[] tmp = new double[stride];
    int maxCount = 1;
    for (int i = 0; i < outSize; i++) {
      double centre = (i + 0.5) * scale;
      int lo = (int) Math.floor(centre - support);
      int hi = (int) Math.ceil(centre + support);
      int first = clamp(lo, inSize);
      int last = clamp(hi - 1, inSize);
      java.util.Arrays.fill(tmp, 0, last - first + 1, 0.0);
      double sum = 0;
      for (int j = lo; j < hi; j++) {
        double w = filter.eval((j + 0.5 - centre) / filterScale);
        tmp[clamp(j, inSize) - first] += w;
        sum += w;
      }
      int from = 0;
      int to = last - first;
      while (from < to && Math.abs(tmp[from]) < NEGLIGIBLE) {
        from++;
      }
      while (to > from && Math.abs(tmp[to]) < NEGLIGIBLE) {
        to--;
      }
      start[i] = first + from;
      count[i] = to - from + 1;
      maxCount = Math.max(maxCount, count[i]);
      for (int k = from; k <= to; k++) {
        weights[i * stride + k - from] = (float) (tmp[k] / sum);
      }
    }
    return new ResampleWeights(start, count, weights, stride, maxCount);
  }

  private static int clamp(int j, int size) {
    return j < 0 ? 0 : Math.min(j, size - 1);
  }
}
