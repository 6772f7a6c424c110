package io.unimatte.modelimport;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decodes an ONNX model (onnx.proto) straight from its protobuf wire format by field number, with
 * no generated classes. Only the parts an inference import needs are kept: the main graph's nodes,
 * initializers, inputs and outputs and the opset imports; everything else is skipped.
 *
 * <p>Longer than most files on purpose: one reader per protobuf message type of onnx.proto, kept
 * together so the field numbers can be checked against the schema in one place.
 */
public final class OnnxModelReader {

  // ModelProto
  private static final int MODEL_IR_VERSION = 1;
  private static final int MODEL_PRODUCER_NAME = 2;
  private static final int MODEL_GRAPH = 7;
  private static final int MODEL_OPSET_IMPORT = 8;
  // OperatorSetIdProto
  private static final int OPSET_DOMAIN = 1;
  private static final int OPSET_VERSION = 2;
  // GraphProto
  private static final int GRAPH_NODE = 1;
  private static final int GRAPH_NAME = 2;
  private static final int GRAPH_INITIALIZER = 5;
  private static final int GRAPH_INPUT = 11;
  private static final int GRAPH_OUTPUT = 12;
  // NodeProto
  private static final int NODE_INPUT = 1;
  private static final int NODE_OUTPUT = 2;
  private static final int NODE_NAME = 3;
  private static final int NODE_OP_TYPE = 4;
  private static final int NODE_ATTRIBUTE = 5;
  private static final int NODE_DOMAIN = 7;
  // AttributeProto
  private static final int ATTR_NAME = 1;
  private static final int ATTR_F = 2;
  private static final int ATTR_I = 3;
  private static final int ATTR_S = 4;
  private static final int ATTR_T = 5;
  private static final int ATTR_FLOATS = 7;
  private static final int ATTR_INTS = 8;
  private static final int ATTR_TYPE = 20;
  // TensorProto
  private static final int TENSOR_DIMS = 1;
  private static final int TENSOR_DATA_TYPE = 2;
  private static final int TENSOR_FLOAT_DATA = 4;
  private static final int TENSOR_INT32_DATA = 5;
  private static final int TENSOR_INT64_DATA = 7;
  private static final int TENSOR_NAME = 8;
  private static final int TENSOR_RAW_DATA = 9;
  private static final int TENSOR_DOUBLE_DATA = 10;
  private static final int TENSOR_EXTERNAL_DATA = 13;
  private static final int TENSOR_DATA_LOCATION = 14;
  private static final int DATA_LOCATION_EXTERNAL = 1;
  // ValueInfoProto / TypeProto / TensorShapeProto
  private static final int VALUE_INFO_NAME = 1;
  private static final int VALUE_INFO_TYPE = 2;
  private static final int TYPE_TENSOR_TYPE = 1;
  private static final int TENSOR_TYPE_ELEM_TYPE = 1;
  private static final int TENSOR_TYPE_SHAPE = 2;
  private static final int SHAPE_DIM = 1;
  private static final int DIM_VALUE = 1;

  private OnnxModelReader() {
  }

  /** Reads and decodes a model file. */
  public static OnnxModel read(Path file) throws IOException {
    return decode(Files.readAllBytes(file));
  }

  /** Decodes a serialized {@code ModelProto}. */
  public static OnnxModel decode(byte[] bytes) {
    CodedInputStream in = CodedInputStream.newInstance(bytes);
    in.setSizeLimit(Integer.MAX_VALUE);
    try {
      return readModel(in);
    } catch (IOException e) {
      throw new OnnxFormatException("malformed ONNX protobuf: " + e.getMessage(), e);
    }
  }

  private static OnnxModel readModel(CodedInputStream in) throws IOException {
    long irVersion = 0;
    String producer = "";
    Map<String, Long> opsets = new LinkedHashMap<>();
    OnnxGraph graph = null;
    while (!in.isAtEnd()) {
      int tag = in.readTag();
      switch (WireFormat.getTagFieldNumber(tag)) {
        case MODEL_IR_VERSION -> irVersion = in.readInt64();
        case MODEL_PRODUCER_NAME -> producer = in.readStringRequireUtf8();
        case MODEL_GRAPH -> {
          int old = enter(in);
          graph = readGraph(in);
          in.popLimit(old);
        }
        case MODEL_OPSET_IMPORT -> {
          int old = enter(in);
          readOpset(in, opsets);
          in.popLimit(old);
        }
        default -> in.skipField(tag);
      }
    }
    if (graph == null) {
      throw new OnnxFormatException("ONNX model has no graph");
    }
    return new OnnxModel(irVersion, producer, opsets, graph);
  }

  private static void readOpset(CodedInputStream in, Map<String, Long> opsets)
      throws IOException {
    String domain = "";
    long version = 0;
    while (!in.isAtEnd()) {
      int tag = in.readTag();
      switch (WireFormat.getTagFieldNumber(tag)) {
        case OPSET_DOMAIN -> domain = in.readStringRequireUtf8();
        case OPSET_VERSION -> version = in.readInt64();
        default -> in.skipField(tag);
      }
    }
    opsets.put(domain, version);
  }

  private static OnnxGraph readGraph(CodedInputStream in) throws IOException {
    String name = "";
    List<OnnxNode> nodes = new ArrayList<>();
    Map<String, OnnxTensor> initializers = new LinkedHashMap<>();
    List<OnnxValueInfo> inputs = new ArrayList<>();
    List<OnnxValueInfo> outputs = new ArrayList<>();
    while (!in.isAtEnd()) {
      int tag = in.readTag();
      int field = WireFormat.getTagFieldNumber(tag);
      switch (field) {
        case GRAPH_NAME -> name = in.readStringRequireUtf8();
        case GRAPH_NODE, GRAPH_INITIALIZER, GRAPH_INPUT, GRAPH_OUTPUT -> {
          int old = enter(in);
          if (field == GRAPH_NODE) {
            nodes.add(readNode(in));
          } else if (field == GRAPH_INITIALIZER) {
            OnnxTensor t = readTensor(in);
            initializers.put(t.name(), t);
          } else if (field == GRAPH_INPUT) {
            inputs.add(readValueInfo(in));
          } else {
            outputs.add(readValueInfo(in));
          }
          in.popLimit(old);
        }
        default -> in.skipField(tag);
      }
    }
    return new OnnxGraph(name, nodes, initializers, inputs, outputs);
  }

  private static OnnxNode readNode(CodedInputStream in) throws IOException {
    List<String> inputs = new ArrayList<>();
    List<String> outputs = new ArrayList<>();
    String name = "";
    String opType = "";
    String domain = "";
    Map<String, OnnxAttribute> attributes = new LinkedHashMap<>();
    while (!in.isAtEnd()) {
      int tag = in.readTag();
      switch (WireFormat.getTagFieldNumber(tag)) {
        case NODE_INPUT -> inputs.add(in.readStringRequireUtf8());
        case NODE_OUTPUT -> outputs.add(in.readStringRequireUtf8());
        case NODE_NAME -> name = in.readStringRequireUtf8();
        case NODE_OP_TYPE -> opType = in.readStringRequireUtf8();
        case NODE_DOMAIN -> domain = in.readStringRequireUtf8();
        case NODE_ATTRIBUTE -> {
          int old = enter(in);
          OnnxAttribute a = readAttribute(in);
          in.popLimit(old);
          attributes.put(a.name(), a);
        }
        default -> in.skipField(tag);
      }
    }
    return new OnnxNode(name, opType, domain, inputs, outputs, attributes);
  }

  private static OnnxAttribute readAttribute(CodedInputStream in) throws IOException {
    String name = "";
    int type = 0;
    float f = 0;
    long i = 0;
    String s = "";
    OnnxTensor t = null;
    List<Float> floats = new ArrayList<>();
    List<Long> ints = new ArrayList<>();
    while (!in.isAtEnd()) {
      int tag = in.readTag();
      switch (WireFormat.getTagFieldNumber(tag)) {
        case ATTR_NAME -> name = in.readStringRequireUtf8();
        case ATTR_TYPE -> type = in.readEnum();
        case ATTR_F -> f = in.readFloat();
        case ATTR_I -> i = in.readInt64();
        case ATTR_S -> s = new String(in.readByteArray(), StandardCharsets.UTF_8);
        case ATTR_T -> {
          int old = enter(in);
          t = readTensor(in);
          in.popLimit(old);
        }
        case ATTR_FLOATS -> readFloats(in, tag, floats);
        case ATTR_INTS -> readInt64s(in, tag, ints);
        default -> in.skipField(tag);
      }
    }
    return new OnnxAttribute(name, type, f, i, s, t, floats, ints);
  }

  private static OnnxValueInfo readValueInfo(CodedInputStream in) throws IOException {
    String name = "";
    int[] elemType = {0};
    List<Long> dims = new ArrayList<>();
    while (!in.isAtEnd()) {
      int tag = in.readTag();
      switch (WireFormat.getTagFieldNumber(tag)) {
        case VALUE_INFO_NAME -> name = in.readStringRequireUtf8();
        case VALUE_INFO_TYPE -> {
          int old = enter(in);
          readType(in, elemType, dims);
          in.popLimit(old);
        }
        default -> in.skipField(tag);
      }
    }
    return new OnnxValueInfo(name, elemType[0], dims);
  }

  /** TypeProto: only the tensor_type branch carries what we need. */
  private static void readType(CodedInputStream in, int[] elemType, List<Long> dims)
      throws IOException {
    while (!in.isAtEnd()) {
      int tag = in.readTag();
      if (WireFormat.getTagFieldNumber(tag) != TYPE_TENSOR_TYPE) {
        in.skipField(tag);
        continue;
      }
      int old = enter(in);
      while (!in.isAtEnd()) {
        int inner = in.readTag();
        switch (WireFormat.getTagFieldNumber(inner)) {
          case TENSOR_TYPE_ELEM_TYPE -> elemType[0] = in.readInt32();
          case TENSOR_TYPE_SHAPE -> {
            int oldShape = enter(in);
            readShape(in, dims);
            in.popLimit(oldShape);
          }
          default -> in.skipField(inner);
        }
      }
      in.popLimit(old);
    }
  }

  private static void readShape(CodedInputStream in, List<Long> dims) throws IOException {
    while (!in.isAtEnd()) {
      int tag = in.readTag();
      if (WireFormat.getTagFieldNumber(tag) != SHAPE_DIM) {
        in.skipField(tag);
        continue;
      }
      int old = enter(in);
      long value = OnnxValueInfo.UNKNOWN_DIM;
      while (!in.isAtEnd()) {
        int inner = in.readTag();
        if (WireFormat.getTagFieldNumber(inner) == DIM_VALUE) {
          value = in.readInt64();
        } else {
          in.skipField(inner); // dim_param: a symbolic name, stays unknown
        }
      }
      in.popLimit(old);
      dims.add(value);
    }
  }

  private static OnnxTensor readTensor(CodedInputStream in) throws IOException {
    List<Long> dims = new ArrayList<>();
    int dataTypeCode = 0;
    String name = "";
    byte[] raw = null;
    List<Float> floatData = new ArrayList<>();
    List<Long> intData = new ArrayList<>();
    List<Double> doubleData = new ArrayList<>();
    boolean external = false;
    while (!in.isAtEnd()) {
      int tag = in.readTag();
      switch (WireFormat.getTagFieldNumber(tag)) {
        case TENSOR_DIMS -> readInt64s(in, tag, dims);
        case TENSOR_DATA_TYPE -> dataTypeCode = in.readInt32();
        case TENSOR_NAME -> name = in.readStringRequireUtf8();
        case TENSOR_RAW_DATA -> raw = in.readByteArray();
        case TENSOR_FLOAT_DATA -> readFloats(in, tag, floatData);
        case TENSOR_INT32_DATA, TENSOR_INT64_DATA -> readInt64s(in, tag, intData);
        case TENSOR_DOUBLE_DATA -> readDoubles(in, tag, doubleData);
        case TENSOR_EXTERNAL_DATA -> {
          external = true;
          in.skipField(tag);
        }
        case TENSOR_DATA_LOCATION -> external |= in.readEnum() == DATA_LOCATION_EXTERNAL;
        default -> in.skipField(tag);
      }
    }
    if (external) {
      throw new OnnxFormatException("tensor '" + name
          + "' keeps its data in an external file, which this importer does not read");
    }
    OnnxDataType type = OnnxDataType.fromCode(dataTypeCode);
    long count = 1;
    for (long d : dims) {
      count *= d;
    }
    if (count > Integer.MAX_VALUE) {
      throw new OnnxFormatException("tensor '" + name + "' is too large: " + count);
    }
    int n = (int) count;
    FloatBuffer floats = null;
    LongBuffer longs = null;
    switch (type) {
      case FLOAT -> floats = raw != null ? rawFloat32(raw, n, name) : listFloats(floatData);
      case FLOAT16 -> floats = raw != null ? rawFloat16(raw, n, name) : int32AsFloat16(intData);
      case DOUBLE -> floats = raw != null ? rawFloat64(raw, n, name) : listDoubles(doubleData);
      case INT64 -> longs = raw != null ? rawInt64(raw, n, name) : listLongs(intData);
      case INT32 -> longs = raw != null ? rawInt32(raw, n, name) : listLongs(intData);
      default -> {
        // kept undecoded: only an error if the converter needs the values
      }
    }
    int decoded = floats != null ? floats.remaining() : longs != null ? longs.remaining() : n;
    if (decoded != n) {
      throw new OnnxFormatException("tensor '" + name + "' has " + decoded
          + " values but its shape " + dims + " needs " + n);
    }
    return new OnnxTensor(name, type, dims, floats, longs);
  }

  /** Pushes the limit of a length-delimited embedded message; returns the old limit. */
  private static int enter(CodedInputStream in) throws IOException {
    int length = in.readRawVarint32();
    return in.pushLimit(length);
  }

  private static void readFloats(CodedInputStream in, int tag, List<Float> out)
      throws IOException {
    if (WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
      int old = enter(in);
      while (!in.isAtEnd()) {
        out.add(in.readFloat());
      }
      in.popLimit(old);
    } else {
      out.add(in.readFloat());
    }
  }

  private static void readDoubles(CodedInputStream in, int tag, List<Double> out)
      throws IOException {
    if (WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
      int old = enter(in);
      while (!in.isAtEnd()) {
        out.add(in.readDouble());
      }
      in.popLimit(old);
    } else {
      out.add(in.readDouble());
    }
  }

  /** int32 and int64 share the varint encoding, so one reader serves both fields. */
  private static void readInt64s(CodedInputStream in, int tag, List<Long> out)
      throws IOException {
    if (WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
      int old = enter(in);
      while (!in.isAtEnd()) {
        out.add(in.readInt64());
      }
      in.popLimit(old);
    } else {
      out.add(in.readInt64());
    }
  }

  private static ByteBuffer little(byte[] raw, int n, int width, String name) {
    if ((long) n * width != raw.length) {
      throw new OnnxFormatException("tensor '" + name + "' raw_data has " + raw.length
          + " bytes, expected " + (long) n * width);
    }
    return ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static FloatBuffer rawFloat32(byte[] raw, int n, String name) {
    float[] out = new float[n];
    little(raw, n, Float.BYTES, name).asFloatBuffer().get(out);
    return FloatBuffer.wrap(out);
  }

  private static FloatBuffer rawFloat16(byte[] raw, int n, String name) {
    ByteBuffer b = little(raw, n, Short.BYTES, name);
    float[] out = new float[n];
    for (int k = 0; k < n; k++) {
      out[k] = Half.toFloat(b.getShort(k * Short.BYTES));
    }
    return FloatBuffer.wrap(out);
  }

  private static FloatBuffer rawFloat64(byte[] raw, int n, String name) {
    ByteBuffer b = little(raw, n, Double.BYTES, name);
    float[] out = new float[n];
    for (int k = 0; k < n; k++) {
      out[k] = (float) b.getDouble(k * Double.BYTES);
    }
    return FloatBuffer.wrap(out);
  }

  private static LongBuffer rawInt64(byte[] raw, int n, String name) {
    long[] out = new long[n];
    little(raw, n, Long.BYTES, name).asLongBuffer().get(out);
    return LongBuffer.wrap(out);
  }

  private static LongBuffer rawInt32(byte[] raw, int n, String name) {
    ByteBuffer b = little(raw, n, Integer.BYTES, name);
    long[] out = new long[n];
    for (int k = 0; k < n; k++) {
      out[k] = b.getInt(k * Integer.BYTES);
    }
    return LongBuffer.wrap(out);
  }

  private static FloatBuffer listFloats(List<Float> values) {
    float[] out = new float[values.size()];
    for (int k = 0; k < out.length; k++) {
      out[k] = values.get(k);
    }
    return FloatBuffer.wrap(out);
  }

  private static FloatBuffer listDoubles(List<Double> values) {
    float[] out = new float[values.size()];
    for (int k = 0; k < out.length; k++) {
      out[k] = values.get(k).floatValue();
    }
    return FloatBuffer.wrap(out);
  }

  /** FLOAT16 in int32_data: each element holds the 16 bits of one half. */
  private static FloatBuffer int32AsFloat16(List<Long> values) {
    float[] out = new float[values.size()];
    for (int k = 0; k < out.length; k++) {
      out[k] = Half.toFloat((short) values.get(k).longValue());
    }
    return FloatBuffer.wrap(out);
  }

  private static LongBuffer listLongs(List<Long> values) {
    return LongBuffer.wrap(values.stream().mapToLong(Long::longValue).toArray());
  }
}
