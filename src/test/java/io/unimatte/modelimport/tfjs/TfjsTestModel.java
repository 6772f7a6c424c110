package io.unimatte.modelimport.tfjs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

/** Writes small TF.js graph models ({@code model.json} + {@code weights.bin}) for tests. */
final class TfjsTestModel {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final ObjectNode root = JSON.createObjectNode();
  private final ArrayNode nodes;
  private final ArrayNode weights;
  private final ObjectNode sigInputs;
  private final ObjectNode sigOutputs;
  private final ByteArrayOutputStream bin = new ByteArrayOutputStream();

  TfjsTestModel() {
    root.put("format", "graph-model");
    root.put("generatedBy", "test");
    nodes = root.putObject("modelTopology").putArray("node");
    ObjectNode sig = root.putObject("signature");
    sigInputs = sig.putObject("inputs");
    sigOutputs = sig.putObject("outputs");
    ObjectNode group = root.putArray("weightsManifest").addObject();
    group.putArray("paths").add("weights.bin");
    weights = group.putArray("weights");
  }

  /** A float32 placeholder listed as signature input {@code name}. */
  TfjsTestModel placeholder(String name) {
    ObjectNode n = node(name, "Placeholder");
    attr(n).putObject("dtype").put("type", "DT_FLOAT");
    attr(n).putObject("shape").putObject("shape").put("unknownRank", true);
    sigInputs.putObject(name + ":0").put("name", name + ":0");
    return this;
  }

  /** A float32 Const whose values are stored as plain float32 in the shard. */
  TfjsTestModel floatConst(String name, long[] shape, float... v) {
    constNode(name, shape, "DT_FLOAT");
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    bin.writeBytes(b.array());
    manifest(name, shape, "float32");
    return this;
  }

  /** A float32 Const stored uint8-quantised: value = q · scale + min. */
  TfjsTestModel quantisedConst(String name, long[] shape, double min, double scale, int... q) {
    constNode(name, shape, "DT_FLOAT");
    for (int x : q) {
      bin.write(x);
    }
    ObjectNode quant = manifest(name, shape, "float32").putObject("quantization");
    quant.put("dtype", "uint8").put("min", min).put("scale", scale).put("original_dtype", "float32");
    return this;
  }

  /** An int32 Const. */
  TfjsTestModel intConst(String name, long[] shape, int... v) {
    constNode(name, shape, "DT_INT32");
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int x : v) {
      b.putInt(x);
    }
    bin.writeBytes(b.array());
    manifest(name, shape, "int32");
    return this;
  }

  /** An op node with attributes already in TF.js JSON form. */
  ObjectNode op(String name, String op, String... inputs) {
    ObjectNode n = node(name, op);
    ArrayNode in = n.putArray("input");
    for (String i : inputs) {
      in.add(i);
    }
    attr(n).putObject("T").put("type", "DT_FLOAT");
    return n;
  }

  /** Declares signature output {@code key} as tensor {@code tensor}. */
  TfjsTestModel output(String key, String tensor) {
    sigOutputs.putObject(key).put("name", tensor);
    return this;
  }

  /** Writes the model into {@code dir}; returns its model.json. */
  Path write(Path dir) throws IOException {
    Files.createDirectories(dir);
    Files.write(dir.resolve("weights.bin"), bin.toByteArray());
    Path json = dir.resolve("model.json");
    JSON.writeValue(json.toFile(), root);
    return json;
  }

  static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  static void ints(ObjectNode attr, String key, long... v) {
    ArrayNode a = attr.putObject(key).putObject("list").putArray("i");
    for (long x : v) {
      a.add(Long.toString(x));
    }
  }

  static void strings(ObjectNode attr, String key, String... v) {
    ArrayNode a = attr.putObject(key).putObject("list").putArray("s");
    for (String x : v) {
      a.add(b64(x));
    }
  }

  static ObjectNode attr(ObjectNode node) {
    return (ObjectNode) node.get("attr");
  }

  private ObjectNode node(String name, String op) {
    ObjectNode n = nodes.addObject();
    n.put("name", name);
    n.put("op", op);
    n.putObject("attr");
    return n;
  }

  private void constNode(String name, long[] shape, String dtype) {
    ObjectNode n = node(name, "Const");
    attr(n).putObject("dtype").put("type", dtype);
    ObjectNode t = attr(n).putObject("value").putObject("tensor");
    t.put("dtype", dtype);
    ArrayNode dims = t.putObject("tensorShape").putArray("dim");
    for (long d : shape) {
      dims.addObject().put("size", Long.toString(d));
    }
  }

  private ObjectNode manifest(String name, long[] shape, String dtype) {
    ObjectNode w = weights.addObject();
    w.put("name", name);
    ArrayNode s = w.putArray("shape");
    for (long d : shape) {
      s.add(d);
    }
    w.put("dtype", dtype);
    return w;
  }
}
