package io.unimatte.modelimport;

/** ONNX {@code TensorProto.DataType} codes this importer knows by name. */
public enum OnnxDataType {
  UNDEFINED(0),
  FLOAT(1),
  UINT8(2),
  INT8(3),
  UINT16(4),
  INT16(5),
  INT32(6),
  INT64(7),
  STRING(8),
  BOOL(9),
  FLOAT16(10),
  DOUBLE(11),
  UINT32(12),
  UINT64(13),
  COMPLEX64(14),
  COMPLEX128(15),
  BFLOAT16(16);

  private final int code;

  OnnxDataType(int code) {
    this.code = code;
  }

  /** The numeric code used in the protobuf encoding. */
  public int code() {
    return code;
  }

  /** Whether values of this type are decoded into {@link OnnxTensor#floatData()}. */
  public boolean isFloatingPoint() {
    return this == FLOAT || this == FLOAT16 || this == DOUBLE;
  }

  /** Whether values of this type are decoded into {@link OnnxTensor#longData()}. */
  public boolean isInteger() {
    return this == INT64 || this == INT32;
  }

  /** Looks a code up; unknown codes are a format error. */
  public static OnnxDataType fromCode(int code) {
    for (OnnxDataType t : values()) {
      if (t.code == code) {
        return t;
      }
    }
    throw new OnnxFormatException("unknown ONNX tensor data type code " + code);
  }
}
