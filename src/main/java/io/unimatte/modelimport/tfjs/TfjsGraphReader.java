package io.unimatte.modelimport.tfjs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.google.protobuf.util.JsonFormat;
import io.unimatte.modelimport.Half;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a TF.js graph model ({@code model.json} plus its binary weight shards) into a
 * {@link TfjsGraphModel}.
 *
 * <p>{@code modelTopology} is a GraphDef in protobuf's JSON mapping; the Const nodes in it carry
 * only dtype and shape, their values live in the shards listed by {@code weightsManifest}. Each
 * manifest group's shards are concatenated and its weights read one after another. Weights
 * stored quantised are expanded back to their original dtype: uint8/uint16 as
 * {@code q · scale + min}, float16 by widening.
 */
public final class TfjsGraphReader {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CONST = "Const";

  private TfjsGraphReader() {
  }

  /** Reads {@code modelJson}; the shards are resolved relative to its folder. */
  public static TfjsGraphModel read(Path modelJson) throws IOException {
    JsonNode root = JSON.readTree(modelJson.toFile());
    JsonNode topology = root.get("modelTopology");
    if (!"graph-model".equals(root.path("format").asText()) || topology == null) {
      throw new TfjsFormatException(modelJson + " is not a TF.js graph model (format '"
          + root.path("format").asText() + "', modelTopology " + (topology == null ? "missing" : "present") + ")");
    }
    GraphDef.Builder graph = GraphDef.newBuilder();
    JsonFormat.parser().ignoringUnknownFields().merge(JSON.writeValueAsString(topology), graph);

    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < graph.getNodeCount(); i++) {
      index.put(graph.getNode(i).getName(), i);
    }
    Map<String, TensorProto> weights = readWeights(modelJson.getParent(), root.path("weightsManifest"));
    for (Map.Entry<String, TensorProto> w : weights.entrySet()) {
      Integer i = index.get(w.getKey());
      if (i == null || !graph.getNode(i).getOp().equals(CONST)) {
        throw new TfjsFormatException("weight '" + w.getKey() + "' has no Const node in the graph");
      }
      graph.setNode(i, graph.getNode(i).toBuilder()
          .putAttr("value", AttrValue.newBuilder().setTensor(w.getValue()).build())
          .putAttr("dtype", AttrValue.newBuilder().setType(w.getValue().getDtype()).build()));
    }
    for (NodeDef n : graph.getNodeList()) {
      if (n.getOp().equals(CONST) && !weights.containsKey(n.getName()) && !hasInlineValue(n)) {
        throw new TfjsFormatException("Const node '" + n.getName() + "' has no value in the weights manifest");
      }
    }
    return new TfjsGraphModel(graph.build(), signature(root, "inputs"), signature(root, "outputs"));
  }

  private static Map<String, String> signature(JsonNode root, String side) {
    Map<String, String> out = new LinkedHashMap<>();
    root.path("signature").path(side).fields().forEachRemaining(e -> {
      String name = e.getValue().path("name").asText(e.getKey());
      // TF.js keys inputs either by name or by "name:0": present them without the suffix
      out.put(e.getKey().endsWith(":0") ? e.getKey().substring(0, e.getKey().length() - 2) : e.getKey(), name);
    });
    return out;
  }

  /** A Const whose value is written in the topology itself (scalars some converters keep inline). */
  private static boolean hasInlineValue(NodeDef n) {
    TensorProto t = n.getAttrOrDefault("value", AttrValue.getDefaultInstance()).getTensor();
    long count = 1;
    for (TensorShapeProto.Dim d : t.getTensorShape().getDimList()) {
      count *= d.getSize();
    }
    return count == 0 || !t.getTensorContent().isEmpty() || t.getFloatValCount() > 0 || t.getIntValCount() > 0
        || t.getBoolValCount() > 0 || t.getInt64ValCount() > 0 || t.getStringValCount() > 0;
  }

  private static Map<String, TensorProto> readWeights(Path dir, JsonNode manifest) throws IOException {
    Map<String, TensorProto> out = new LinkedHashMap<>();
    for (JsonNode group : manifest) {
      ByteBuffer data = ByteBuffer.wrap(concatShards(dir, group.path("paths"))).order(ByteOrder.LITTLE_ENDIAN);
      for (JsonNode w : group.path("weights")) {
        String name = w.path("name").asText();
        try {
          out.put(name, readWeight(w, data));
        } catch (java.nio.BufferUnderflowException e) {
          throw new TfjsFormatException("weight shards end inside weight '" + name + "'");
        }
      }
      if (data.hasRemaining()) {
        throw new TfjsFormatException(data.remaining() + " bytes left over after the weights of shards "
            + group.path("paths"));
      }
    }
    return out;
  }

  private static byte[] concatShards(Path dir, JsonNode paths) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (JsonNode p : paths) {
      Path shard = dir.resolve(p.asText()).normalize();
      if (!shard.startsWith(dir.normalize()) || !Files.isRegularFile(shard)) {
        throw new TfjsFormatException("weight shard '" + p.asText() + "' is missing from " + dir);
      }
      all.write(Files.readAllBytes(shard));
    }
    return all.toByteArray();
  }

  private static TensorProto readWeight(JsonNode w, ByteBuffer data) throws TfjsFormatException {
    String name = w.path("name").asText();
    String dtype = w.path("dtype").asText();
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    long count = 1;
    for (JsonNode d : w.path("shape")) {
      shape.addDim(TensorShapeProto.Dim.newBuilder().setSize(d.asLong()));
      count *= d.asLong();
    }
    int n = Math.toIntExact(count);
    DataType type = switch (dtype) {
      case "float32" -> DataType.DT_FLOAT;
      case "int32" -> DataType.DT_INT32;
      case "bool" -> DataType.DT_BOOL;
      default -> throw new TfjsFormatException("weight '" + name + "' has dtype '" + dtype
          + "'; supported: float32, int32, bool");
    };
    ByteBuffer content = ByteBuffer.allocate(type == DataType.DT_BOOL ? n : n * 4).order(ByteOrder.LITTLE_ENDIAN);
    JsonNode q = w.get("quantization");
    if (q == null) {
      byte[] raw = new byte[content.capacity()];
      data.get(raw);
      content.put(raw);
    } else {
      String qtype = q.path("dtype").asText();
      double min = q.path("min").asDouble();
      double scale = q.path("scale").asDouble();
      for (int i = 0; i < n; i++) {
        double v = switch (qtype) {
          case "uint8" -> (data.get() & 0xFF) * scale + min;
          case "uint16" -> (data.getShort() & 0xFFFF) * scale + min;
          case "float16" -> Half.toFloat(data.getShort());
          default -> throw new TfjsFormatException("weight '" + name + "' is quantised as '" + qtype
              + "'; supported: uint8, uint16, float16");
        };
        switch (type) {
          case DT_FLOAT -> content.putFloat((float) v);
          case DT_INT32 -> content.putInt((int) Math.round(v));
          default -> throw new TfjsFormatException("weight '" + name + "': quantised " + dtype + " is not supported");
        }
      }
    }
    return TensorProto.newBuilder().setDtype(type).setTensorShape(shape)
        .setTensorContent(ByteString.copyFrom(content.array())).build();
  }
}
