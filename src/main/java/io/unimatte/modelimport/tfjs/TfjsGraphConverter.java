package io.unimatte.modelimport.tfjs;

import io.unimatte.modelimport.UnsupportedOpException;
import org.tensorflow.Graph;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.TensorFlow;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Exports a TF.js graph model as a SavedModel with the project's matting contract: one
 * signature {@code serving_default}, input {@code image} float32 [N, S, S, 3] (NHWC), output
 * {@code alpha}.
 *
 * <p>The model's image input is fed from {@code image}; each of its other inputs must be bound
 * to a scalar constant, which is baked into the graph. That suits models that broadcast such
 * inputs to the shape they need (RVM broadcasts its recurrent states and reads its downsample
 * ratio as a scalar), so the batch size stays free. Ops are checked against the ops this
 * TensorFlow build registers before anything is built, so an unknown op fails with its name.
 */
public final class TfjsGraphConverter {
  /** Signature key, input and output names of the exported SavedModel. */
  public static final String SIGNATURE = "serving_default";
  public static final String INPUT_KEY = "image";
  public static final String OUTPUT_KEY = "alpha";
  private static final String SERVE_TAG = "serve";
  private static final String PLACEHOLDER = "Placeholder";
  private static final int CHANNELS = 3;

  /**
   * How the model's signature maps onto the matting contract.
   *
   * @param imageInput  signature input key of the image ([N, H, W, 3], already normalised)
   * @param size        spatial size S of the exported input
   * @param constants   every other signature input key → the scalar it is fixed to
   * @param alphaOutput signature output key of the alpha matte
   */
  public record Binding(String imageInput, int size, Map<String, Float> constants, String alphaOutput) {
  }

  private TfjsGraphConverter() {
  }

  /** Converts {@code model} and writes the SavedModel to {@code dir}. */
  public static void convert(TfjsGraphModel model, Binding binding, Path dir) throws IOException {
    GraphDef graph = bind(model, binding, FusedOpRewriter.rewrite(model.graph()));
    checkOps(graph);
    try (Graph g = new Graph()) {
      g.importGraphDef(graph);
      try (Session s = new Session(g)) {
        SavedModelBundle.exporter(dir.toString()).withTags(SERVE_TAG).withSession(s)
            .withSignature(Signature.builder().key(SIGNATURE)
                .input(INPUT_KEY, g.operationOrThrow(INPUT_KEY).output(0))
                .output(OUTPUT_KEY, g.operationOrThrow(OUTPUT_KEY).output(0)).build())
            .export();
      }
    }
  }

  /** Fails with the first op (in graph order) that this TensorFlow does not register. */
  static void checkOps(GraphDef graph) {
    Set<String> known = TensorFlow.registeredOpList().getOpList().stream().map(OpDef::getName)
        .collect(Collectors.toSet());
    for (NodeDef n : graph.getNodeList()) {
      if (!known.contains(n.getOp())) {
        throw new UnsupportedOpException("TF.js", n.getOp(), n.getName(),
            "TensorFlow " + TensorFlow.version() + " has no such op", null);
      }
    }
  }

  private static GraphDef bind(TfjsGraphModel model, Binding b, GraphDef graph) {
    Map<String, String> nodeOfKey = new HashMap<>();
    for (Map.Entry<String, String> e : model.inputs().entrySet()) {
      nodeOfKey.put(e.getKey(), nodeName(e.getValue()));
    }
    String imageNode = require(nodeOfKey, b.imageInput(), "input");
    Map<String, Float> constantOfNode = new HashMap<>();
    for (Map.Entry<String, Float> c : b.constants().entrySet()) {
      constantOfNode.put(require(nodeOfKey, c.getKey(), "input"), c.getValue());
    }
    String alphaTensor = model.outputs().get(b.alphaOutput());
    if (alphaTensor == null) {
      throw new IllegalArgumentException("the model has no output '" + b.alphaOutput() + "'; outputs: "
          + model.outputs().keySet());
    }
    AttrValue dtFloat = AttrValue.newBuilder().setType(DataType.DT_FLOAT).build();
    GraphDef.Builder out = graph.toBuilder().clearNode();
    for (NodeDef n : graph.getNodeList()) {
      if (n.getName().equals(INPUT_KEY) || n.getName().equals(OUTPUT_KEY)) {
        throw new IllegalArgumentException("the model already has a node named '" + n.getName() + "'");
      }
      if (n.getName().equals(imageNode)) {
        out.addNode(NodeDef.newBuilder().setName(n.getName()).setOp("Identity").addInput(INPUT_KEY)
            .putAttr("T", dtFloat));
      } else if (constantOfNode.containsKey(n.getName())) {
        out.addNode(scalar(n.getName(), constantOfNode.get(n.getName())));
      } else if (n.getOp().equals(PLACEHOLDER)) {
        throw new IllegalArgumentException("model input '" + n.getName()
            + "' is neither the image nor bound to a constant");
      } else {
        out.addNode(n);
      }
    }
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (long d : new long[] {-1, b.size(), b.size(), CHANNELS}) {
      shape.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    out.addNode(NodeDef.newBuilder().setName(INPUT_KEY).setOp(PLACEHOLDER).putAttr("dtype", dtFloat)
        .putAttr("shape", AttrValue.newBuilder().setShape(shape).build()));
    out.addNode(NodeDef.newBuilder().setName(OUTPUT_KEY).setOp("Identity").addInput(alphaTensor)
        .putAttr("T", dtFloat));
    return out.build();
  }

  private static NodeDef scalar(String name, float v) {
    TensorProto t = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
        .setTensorShape(TensorShapeProto.getDefaultInstance()).addFloatVal(v).build();
    return NodeDef.newBuilder().setName(name).setOp("Const")
        .putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build())
        .putAttr("value", AttrValue.newBuilder().setTensor(t).build()).build();
  }

  private static String require(Map<String, String> nodeOfKey, String key, String what) {
    String node = nodeOfKey.get(key);
    if (node == null) {
      throw new IllegalArgumentException("the model has no " + what + " '" + key + "'; inputs: " + nodeOfKey.keySet());
    }
    return node;
  }

  private static String nodeName(String tensor) {
    int colon = tensor.lastIndexOf(':');
    return colon < 0 ? tensor : tensor.substring(0, colon);
  }
}
