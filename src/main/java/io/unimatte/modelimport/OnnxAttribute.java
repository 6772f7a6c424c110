package io.unimatte.modelimport;

import java.util.List;

/**
 * One decoded ONNX node attribute. Only the field matching {@link #type()} is meaningful; graph
 * and sparse-tensor attributes are recorded by type only.
 *
 * @param name attribute name
 * @param type ONNX {@code AttributeProto.AttributeType} code (see the constants)
 * @param f FLOAT value
 * @param i INT value
 * @param s STRING value, decoded as UTF-8
 * @param t TENSOR value, or {@code null}
 * @param floats FLOATS values
 * @param ints INTS values
 */
public record OnnxAttribute(String name, int type, float f, long i, String s, OnnxTensor t,
              List<Float> floats, List<Long> ints) {

  public static final int TYPE_FLOAT = 1;
  public static final int TYPE_INT = 2;
  public static final int TYPE_STRING = 3;
  public static final int TYPE_TENSOR = 4;
  public static final int TYPE_GRAPH = 5;
  public static final int TYPE_FLOATS = 6;
  public static final int TYPE_INTS = 7;

  public OnnxAttribute {
    floats = List.copyOf(floats);
    ints = List.copyOf(ints);
  }

  /** The INTS value as an array. */
  public long[] intArray() {
    return ints.stream().mapToLong(Long::longValue).toArray();
  }
}
