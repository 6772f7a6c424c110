package io.unimatte.modelimport.tfjs;

import org.tensorflow.proto.GraphDef;

import java.util.Map;

/**
 * A TF.js graph model as a TensorFlow {@link GraphDef} with every weight filled in, plus its
 * signature: input and output keys mapped to tensor names ({@code "node:0"}).
 *
 * @param graph   the graph, still with the TF.js-only fused ops (see {@link FusedOpRewriter})
 * @param inputs  signature input key → tensor name
 * @param outputs signature output key → tensor name
 */
public record TfjsGraphModel(GraphDef graph, Map<String, String> inputs, Map<String, String> outputs) {
}
