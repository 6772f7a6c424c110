package io.unimatte.modelimport;

import com.google.protobuf.CodedOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes small ONNX models for tests (ModelProto wire format by field number), so the importer
 * can be checked against ONNX Runtime on graphs we design.
 */
public final class OnnxTestModel {
  @FunctionalInterface
  public interface Body {
    void write(CodedOutputStream o) throws IOException;
  }

  private final List<byte[]> nodes = new ArrayList<>();
  private final List<byte[]> initializers = new ArrayList<>();
  private final List<byte[]> inputs = new ArrayList<>();
  private final List<byte[]> outputs = new ArrayList<>();

  static byte[] msg(Body body) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      CodedOutputStream o = CodedOutputStream.newInstance(bytes);
      body.write(o);
      o.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An attribute: {@code value} is a Long (INT), long[] (INTS), String (STRING) or Float (FLOAT). */
  public static byte[] attr(String name, Object value) {
    return msg(o -> {
      o.writeString(1, name);
      if (value instanceof Long l) {
        o.writeInt64(3, l);
        o.writeEnum(20, 2);
      } else if (value instanceof long[] ls) {
        for (long l : ls) {
          o.writeInt64(8, l);
        }
        o.writeEnum(20, 7);
      } else if (value instanceof String s) {
        o.writeByteArray(4, s.getBytes());
        o.writeEnum(20, 3);
      } else if (value instanceof Float f) {
        o.writeFloat(2, f);
        o.writeEnum(20, 1);
      } else {
        throw new IllegalArgumentException(String.valueOf(value));
      }
    });
  }

  public OnnxTestModel node(String name, String op, List<String> in, List<String> out, byte[]... attrs) {
    nodes.add(msg(o -> {
      for (String i : in) {
        o.writeString(1, i);
      }
      for (String x : out) {
        o.writeString(2, x);
      }
      o.writeString(3, name);
      o.writeString(4, op);
      for (byte[] a : attrs) {
        o.writeByteArray(5, a);
      }
    }));
    return this;
  }

  public OnnxTestModel floats(String name, long[] dims, float[] values) {
    ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      raw.putFloat(v);
    }
    initializers.add(msg(o -> {
      for (long d : dims) {
        o.writeInt64(1, d);
      }
      o.writeInt32(2, 1);
      o.writeString(8, name);
      o.writeByteArray(9, raw.array());
    }));
    return this;
  }

  public OnnxTestModel longs(String name, long[] values) {
    initializers.add(msg(o -> {
      o.writeInt64(1, values.length);
      o.writeInt32(2, 7);
      for (long v : values) {
        o.writeInt64(7, v);
      }
      o.writeString(8, name);
    }));
    return this;
  }

  private static byte[] valueInfo(String name, long[] dims) {
    return msg(o -> {
      o.writeString(1, name);
      o.writeByteArray(2, msg(t -> t.writeByteArray(1, msg(tt -> {
        tt.writeInt32(1, 1);
        tt.writeByteArray(2, msg(shape -> {
          for (long d : dims) {
            shape.writeByteArray(1, msg(dim -> dim.writeInt64(1, d)));
          }
        }));
      }))));
    });
  }

  public OnnxTestModel input(String name, long... dims) {
    inputs.add(valueInfo(name, dims));
    return this;
  }

  public OnnxTestModel output(String name, long... dims) {
    outputs.add(valueInfo(name, dims));
    return this;
  }

  public byte[] build(long opset) {
    byte[] graph = msg(o -> {
      for (byte[] n : nodes) {
        o.writeByteArray(1, n);
      }
      o.writeString(2, "test");
      for (byte[] t : initializers) {
        o.writeByteArray(5, t);
      }
      for (byte[] i : inputs) {
        o.writeByteArray(11, i);
      }
      for (byte[] x : outputs) {
        o.writeByteArray(12, x);
      }
    });
    return msg(o -> {
      o.writeInt64(1, 8);
      o.writeByteArray(7, graph);
      o.writeByteArray(8, msg(op -> {
        op.writeString(1, "");
        op.writeInt64(2, opset);
      }));
    });
  }
}
