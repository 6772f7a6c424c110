package io.unimatte.modelimport;

import java.util.List;
import java.util.Map;

/**
 * A decoded ONNX graph.
 *
 * @param name graph name
 * @param nodes nodes in file order (which ONNX says is topological, but exporters do not always
 *     honour that)
 * @param initializers constant tensors by name, in file order
 * @param inputs declared graph inputs (may include initializers in old IR versions)
 * @param outputs declared graph outputs
 */
public record OnnxGraph(String name, List<OnnxNode> nodes, Map<String, OnnxTensor> initializers,
            List<OnnxValueInfo> inputs, List<OnnxValueInfo> outputs) {

  public OnnxGraph {
    nodes = List.copyOf(nodes);
    initializers = java.util.Collections.unmodifiableMap(
        new java.util.LinkedHashMap<>(initializers));
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
  }

  /** Graph inputs that are real feeds, i.e. not also initializers. */
  public List<OnnxValueInfo> feedInputs() {
    return inputs.stream().filter(v -> !initializers.containsKey(v.name())).toList();
  }
}
