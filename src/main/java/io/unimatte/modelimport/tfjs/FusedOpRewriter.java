package io.unimatte.modelimport.tfjs;

import com.google.protobuf.ByteString;
import io.unimatte.modelimport.UnsupportedOpException;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns the fused ops that the TF.js converter writes into ops TensorFlow runs.
 *
 * <ul>
 *   <li>{@code _FusedConv2D} / {@code _FusedMatMul} are TensorFlow ops, but TF.js drops their
 *       {@code TArgs} attribute (the types of the extra inputs): it is added back.</li>
 *   <li>{@code FusedDepthwiseConv2dNative} exists only in TF.js: it becomes
 *       {@code DepthwiseConv2dNative} → {@code BiasAdd} → activation, the last of which keeps the
 *       original node name so that consumers need no change.</li>
 * </ul>
 */
public final class FusedOpRewriter {
  /** Activations a fused depthwise convolution may end with. */
  public static final Set<String> ACTIVATIONS = Set.of("Relu", "Relu6", "Elu", "Sigmoid", "Tanh", "LeakyRelu");
  private static final Set<String> NEEDS_TARGS = Set.of("_FusedConv2D", "_FusedMatMul");
  private static final String FUSED_DEPTHWISE = "FusedDepthwiseConv2dNative";
  private static final Set<String> DEPTHWISE_ATTRS = Set.of("T", "strides", "padding", "explicit_paddings",
      "data_format", "dilations");
  private static final String BIAS_ADD = "BiasAdd";
  private static final String FORMAT = "TF.js";

  private FusedOpRewriter() {
  }

  /** The rewritten graph. */
  public static GraphDef rewrite(GraphDef graph) {
    GraphDef.Builder out = graph.toBuilder().clearNode();
    for (NodeDef n : graph.getNodeList()) {
      if (NEEDS_TARGS.contains(n.getOp())) {
        out.addNode(withTargs(n));
      } else if (n.getOp().equals(FUSED_DEPTHWISE)) {
        out.addAllNode(splitDepthwise(n));
      } else {
        out.addNode(n);
      }
    }
    return out.build();
  }

  private static NodeDef withTargs(NodeDef n) {
    if (n.containsAttr("TArgs")) {
      return n;
    }
    long numArgs = n.getAttrOrDefault("num_args", AttrValue.getDefaultInstance()).getI();
    AttrValue.ListValue.Builder types = AttrValue.ListValue.newBuilder();
    for (long i = 0; i < numArgs; i++) {
      types.addType(n.getAttrOrThrow("T").getType());
    }
    return n.toBuilder().putAttr("TArgs", AttrValue.newBuilder().setList(types).build()).build();
  }

  private static List<NodeDef> splitDepthwise(NodeDef n) {
    List<String> fused = new ArrayList<>();
    for (var s : n.getAttrOrDefault("fused_ops", AttrValue.getDefaultInstance()).getList().getSList()) {
      fused.add(s.toString(StandardCharsets.UTF_8));
    }
    List<String> data = new ArrayList<>();
    List<String> control = new ArrayList<>();
    for (String in : n.getInputList()) {
      (in.startsWith("^") ? control : data).add(in);
    }
    boolean bias = !fused.isEmpty() && fused.get(0).equals(BIAS_ADD);
    List<String> activations = bias ? fused.subList(1, fused.size()) : fused;
    if (activations.size() > 1 || (activations.size() == 1 && !ACTIVATIONS.contains(activations.get(0)))
        || data.size() != (bias ? 3 : 2)) {
      throw new UnsupportedOpException(FORMAT, n.getOp(), n.getName(), "fused ops " + fused + " with "
          + data.size() + " inputs; supported: [BiasAdd] followed by at most one of "
          + String.join(", ", ACTIVATIONS.stream().sorted().toList()), null);
    }
    List<NodeDef> out = new ArrayList<>();
    AttrValue t = n.getAttrOrThrow("T");
    NodeDef.Builder conv = NodeDef.newBuilder().setName(n.getName()).setOp("DepthwiseConv2dNative")
        .setDevice(n.getDevice()).addInput(data.get(0)).addInput(data.get(1)).addAllInput(control);
    for (Map.Entry<String, AttrValue> a : n.getAttrMap().entrySet()) {
      if (DEPTHWISE_ATTRS.contains(a.getKey())) {
        conv.putAttr(a.getKey(), a.getValue());
      }
    }
    NodeDef last = conv.build();
    if (bias) {
      out.add(last.toBuilder().setName(n.getName() + "/depthwise").build());
      last = NodeDef.newBuilder().setName(n.getName()).setOp(BIAS_ADD).setDevice(n.getDevice())
          .addInput(n.getName() + "/depthwise").addInput(data.get(2)).putAttr("T", t)
          .putAttr("data_format", n.getAttrOrDefault("data_format", AttrValue.newBuilder()
              .setS(ByteString.copyFromUtf8("NHWC")).build()))
          .build();
    }
    if (!activations.isEmpty()) {
      String act = activations.get(0);
      String prev = n.getName() + "/" + (bias ? "bias_add" : "depthwise");
      out.add(last.toBuilder().setName(prev).build());
      NodeDef.Builder a = NodeDef.newBuilder().setName(n.getName()).setOp(act).setDevice(n.getDevice())
          .addInput(prev).putAttr("T", t);
      if (act.equals("LeakyRelu") && n.containsAttr("leakyrelu_alpha")) {
        a.putAttr("alpha", n.getAttrOrThrow("leakyrelu_alpha"));
      }
      last = a.build();
    }
    out.add(last);
    return out;
  }
}
