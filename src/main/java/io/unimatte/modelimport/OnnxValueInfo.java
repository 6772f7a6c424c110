package io.unimatte.modelimport;

import java.util.List;

/**
 * Declared type of a graph input or output.
 *
 * @param name value name
 * @param elemType element type code ({@link OnnxDataType#code()}), 0 when not declared
 * @param dims shape with {@link #UNKNOWN_DIM} for symbolic or missing dimensions; empty when the
 *     shape is not declared
 */
public record OnnxValueInfo(String name, int elemType, List<Long> dims) {

  /** Marks a dimension without a fixed size. */
  public static final long UNKNOWN_DIM = -1;

  public OnnxValueInfo {
    dims = List.copyOf(dims);
  }
}
