package io.unimatte.modelimport;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.List;

/**
 * A decoded ONNX tensor (an initializer, a {@code Constant} value or a tensor attribute).
 *
 * <p>Floating-point types (FLOAT, FLOAT16, DOUBLE) are widened or narrowed to float32 in
 * {@link #floatData()}; INT64 and INT32 land in {@link #longData()}. Other types are kept
 * undecoded (both buffers {@code null}) so a model can still be read when such tensors are never
 * used. The buffers are read-only and each accessor call returns an independent view.
 *
 * @param name tensor name, empty when anonymous (e.g. inside an attribute)
 * @param dataType element type as stored in the file
 * @param dims shape, outermost first; empty for a scalar
 * @param floatData float32 values in row-major order, or {@code null}
 * @param longData integer values in row-major order, or {@code null}
 */
public record OnnxTensor(String name, OnnxDataType dataType, List<Long> dims,
                         FloatBuffer floatData, LongBuffer longData) {

  public OnnxTensor {
    dims = List.copyOf(dims);
    floatData = floatData == null ? null : floatData.asReadOnlyBuffer();
    longData = longData == null ? null : longData.asReadOnlyBuffer();
  }

  /** A float32 tensor over a copy of {@code values}. */
  public static OnnxTensor ofFloats(String name, long[] shape, float[] values) {
    return new OnnxTensor(name, OnnxDataType.FLOAT, toList(shape),
        FloatBuffer.wrap(values.clone()), null);
  }

  /** An int64 tensor over a copy of {@code values}. */
  public static OnnxTensor ofLongs(String name, long[] shape, long[] values) {
    return new OnnxTensor(name, OnnxDataType.INT64, toList(shape), null,
        LongBuffer.wrap(values.clone()));
  }

  @Override
  public FloatBuffer floatData() {
    return floatData == null ? null : floatData.duplicate();
  }

  @Override
  public LongBuffer longData() {
    return longData == null ? null : longData.duplicate();
  }

  /** The shape as an array. */
  public long[] shape() {
    return dims.stream().mapToLong(Long::longValue).toArray();
  }

  /** Product of the dimensions (1 for a scalar). */
  public long elementCount() {
    long n = 1;
    for (long d : dims) {
      n *= d;
    }
    return n;
  }

  /** Whether the values were decoded (see the class comment). */
  public boolean hasValues() {
    return floatData != null || longData != null;
  }

  /** A copy of the values as floats (integers are converted). */
  public float[] floatValues() {
    if (floatData != null) {
      float[] out = new float[floatData.remaining()];
      floatData().get(out);
      return out;
    }
    long[] longs = longValues();
    float[] out = new float[longs.length];
    for (int i = 0; i < longs.length; i++) {
      out[i] = longs[i];
    }
    return out;
  }

  /** A copy of the values as longs; floats are truncated toward zero. */
  public long[] longValues() {
    if (longData != null) {
      long[] out = new long[longData.remaining()];
      longData().get(out);
      return out;
    }
    if (floatData == null) {
      throw new OnnxFormatException("values of " + dataType + " tensor '" + name
          + "' are not decoded by this importer");
    }
    FloatBuffer f = floatData();
    long[] out = new long[f.remaining()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (long) f.get(i);
    }
    return out;
  }

  private static List<Long> toList(long[] shape) {
    return java.util.Arrays.stream(shape).boxed().toList();
  }
}
