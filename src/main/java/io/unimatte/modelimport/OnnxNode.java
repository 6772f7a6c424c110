package io.unimatte.modelimport;

import java.util.List;
import java.util.Map;

/**
 * One ONNX graph node. An empty string among the inputs marks an omitted optional input.
 *
 * @param name node name (may be empty)
 * @param opType operator, e.g. {@code Conv}
 * @param domain operator set domain, empty for the default ONNX domain
 * @param inputs input value names in operator order
 * @param outputs output value names
 * @param attributes attributes by name
 */
public record OnnxNode(String name, String opType, String domain, List<String> inputs,
                       List<String> outputs, Map<String, OnnxAttribute> attributes) {

  public OnnxNode {
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    attributes = Map.copyOf(attributes);
  }

  /** Input {@code index}, or empty when absent or omitted. */
  public String input(int index) {
    return index < inputs.size() ? inputs.get(index) : "";
  }

  /** Integer attribute or {@code fallback}. */
  public long intAttr(String attr, long fallback) {
    OnnxAttribute a = attributes.get(attr);
    return a == null ? fallback : a.i();
  }

  /** Float attribute or {@code fallback}. */
  public float floatAttr(String attr, float fallback) {
    OnnxAttribute a = attributes.get(attr);
    return a == null ? fallback : a.f();
  }

  /** String attribute or {@code fallback}. */
  public String stringAttr(String attr, String fallback) {
    OnnxAttribute a = attributes.get(attr);
    return a == null ? fallback : a.s();
  }

  /** Integer-list attribute or {@code null}. */
  public long[] intsAttr(String attr) {
    OnnxAttribute a = attributes.get(attr);
    return a == null ? null : a.intArray();
  }

  /** A short description for error messages. */
  public String describe() {
    return opType + " node '" + (name.isEmpty() ? "<unnamed>" : name) + "'";
  }
}
