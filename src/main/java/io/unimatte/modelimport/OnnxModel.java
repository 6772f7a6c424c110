package io.unimatte.modelimport;

import java.util.Map;

/**
 * A decoded ONNX model file.
 *
 * @param irVersion ONNX IR version
 * @param producerName tool that wrote the file
 * @param opsetImports operator set version per domain ("" is the default ONNX domain)
 * @param graph the main graph
 */
public record OnnxModel(long irVersion, String producerName, Map<String, Long> opsetImports,
            OnnxGraph graph) {

  public OnnxModel {
    opsetImports = Map.copyOf(opsetImports);
  }

  /** Opset version of the default ONNX domain, 0 when not declared. */
  public long defaultOpset() {
    Long v = opsetImports.get("");
    if (v == null) {
      v = opsetImports.get("ai.onnx");
    }
    return v == null ? 0 : v;
  }
}
