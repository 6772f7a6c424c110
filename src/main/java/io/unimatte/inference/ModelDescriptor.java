package io.unimatte.inference;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What {@code models/<name>/model.json} says about a model: how to feed it and what it is.
 *
 * @param name        model name, as used in {@code model=<name>}
 * @param purpose     what the model is for (shown to users)
 * @param signature   SavedModel signature key
 * @param input       input contract (size, layout, normalisation)
 * @param output      output contract
 * @param source      where the weights came from (package, version, SHA-256)
 * @param license     licences of the weights and of the package they came in
 * @param directory   the model's folder (not part of the JSON)
 */
public record ModelDescriptor(String name, String purpose, String signature, Input input, Output output,
                              JsonNode source, JsonNode license, Path directory) {

  /** File name of the descriptor inside a model folder. */
  public static final String FILE_NAME = "model.json";

  private static final ObjectMapper MAPPER = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  /** Input contract: square NHWC RGB of {@code size}², normalised per channel as (v − mean) / std. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Input(String key, String layout, int size, String colorOrder, float[] mean, float[] std) {
  }

  /** Output contract: one alpha channel in [0, 1] under signature output {@code key}. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Output(String key) {
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  private record Json(String name, String purpose, String signature, Input input, Output output,
                      JsonNode source, JsonNode license) {
  }

  /** Reads {@code dir/model.json}; fails with a message naming the file and the problem. */
  public static ModelDescriptor read(Path dir) throws IOException {
    Path file = dir.resolve(FILE_NAME);
    if (!Files.isRegularFile(file)) {
      throw new IOException("model descriptor " + file + " is missing");
    }
    Json j = MAPPER.readValue(file.toFile(), Json.class);
    if (j.input() == null || j.output() == null || j.input().size() <= 0
        || j.input().mean() == null || j.input().std() == null
        || j.input().mean().length != 3 || j.input().std().length != 3) {
      throw new IOException("model descriptor " + file + " lacks a valid input/output contract");
    }
    String sig = j.signature() == null ? "serving_default" : j.signature();
    return new ModelDescriptor(j.name() == null ? dir.getFileName().toString() : j.name(), j.purpose(), sig,
        j.input(), j.output(), j.source(), j.license(), dir);
  }

  /** Floats per preprocessed image (size × size × 3). */
  public int inputFloats() {
    return input.size() * input.size() * 3;
  }

  /** Floats per alpha map (size × size). */
  public int outputFloats() {
    return input.size() * input.size();
  }
}
