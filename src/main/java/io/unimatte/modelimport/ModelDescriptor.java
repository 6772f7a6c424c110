package io.unimatte.modelimport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * What a model is and how to feed it: read from {@code models/<name>/model.json} or from an entry
 * of {@code models.serve} in {@code config.json} (same fields).
 *
 * <p>Two input/output contracts exist. {@link Contract#FIXED}: a batch of square images of
 * {@code input.size}², NHWC or NCHW, normalised per channel as (v − mean) / std with v in 0..255,
 * giving one alpha channel (ISNet, RVM, most segmentation networks). {@link Contract#CVUNET}: the
 * CV-UNet frozen graphs — one image per call, {@code [H, W, 3]} of any size with values 0..255, giving
 * {@code [H, W, 4]} RGBA whose fourth channel is the alpha in 0..255. Such models are never batched.
 *
 * @param name      model name, as used in {@code model=<name>}
 * @param purpose   what the model is for (shown to users)
 * @param kind      how the file is stored and loaded
 * @param path      the SavedModel folder, the frozen graph or the ONNX file
 * @param signature SavedModel signature key (SavedModel and imported ONNX only)
 * @param contract  input/output contract
 * @param sessions  how many sessions serve it at once (for one-image-per-call models)
 * @param input     input tensor, size, layout and normalisation
 * @param output    output tensor, layout, alpha channel and range
 * @param source    where the weights came from (package, version, SHA-256), may be null
 * @param license   licences of the weights and of the package they came in, may be null
 * @param directory the folder of the model's {@code model.json}, or the models folder for config entries
 */
public record ModelDescriptor(String name, String purpose, Kind kind, Path path, String signature, Contract contract,
                              int sessions, Input input, Output output, JsonNode source, JsonNode license,
                              Path directory) {

  /** File name of the descriptor inside a model folder. */
  public static final String FILE_NAME = "model.json";
  /** Signature key SavedModels use unless told otherwise. */
  public static final String DEFAULT_SIGNATURE = "serving_default";
  /** CV-UNet's tensor names. */
  public static final String CVUNET_INPUT = "input_image:0";
  public static final String CVUNET_OUTPUT = "output_png:0";
  private static final int RGBA_ALPHA_CHANNEL = 3;
  private static final float BYTE_RANGE = 255f;
  private static final Set<String> LAYOUTS = Set.of("NHWC", "NCHW", "HWC");
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** How the model file is stored. */
  public enum Kind {
    /** A TensorFlow SavedModel folder; tensors found through a signature. */
    SAVEDMODEL("savedmodel"),
    /** A TensorFlow frozen {@code GraphDef} ({@code .pb}); tensors named directly ({@code op:index}). */
    FROZEN_GRAPH("frozen-graph"),
    /** An ONNX file, converted to a SavedModel on first load by the project's importer. */
    ONNX("onnx");

    private final String id;

    Kind(String id) {
      this.id = id;
    }

    /** The name used in JSON. */
    public String id() {
      return id;
    }

    static Kind parse(String s) throws IOException {
      for (Kind k : values()) {
        if (k.id.equalsIgnoreCase(s) || k.name().equalsIgnoreCase(s)) {
          return k;
        }
      }
      throw new IOException("unknown kind '" + s + "' (use savedmodel, frozen-graph or onnx)");
    }
  }

  /** The input/output contract. */
  public enum Contract {
    /** Batches of square images of a fixed size, normalised, one alpha channel out. */
    FIXED("fixed"),
    /** One image per call, any size, 0..255 in, RGBA 0..255 out (the CV-UNet graphs). */
    CVUNET("cvunet");

    private final String id;

    Contract(String id) {
      this.id = id;
    }

    /** The name used in JSON. */
    public String id() {
      return id;
    }

    static Contract parse(String s) throws IOException {
      for (Contract c : values()) {
        if (c.id.equalsIgnoreCase(s)) {
          return c;
        }
      }
      throw new IOException("unknown contract '" + s + "' (use fixed or cvunet)");
    }
  }

  /**
   * Input tensor and preprocessing.
   *
   * @param key        SavedModel signature input key, or for frozen graphs the tensor name
   * @param layout     {@code NHWC}, {@code NCHW} (batched) or {@code HWC} (one image per call)
   * @param size       square side for fixed-size models; 0 when any size is accepted
   * @param maxSide    for any-size models: longer sides are scaled down to this (0 = no limit)
   * @param colorOrder {@code RGB} or {@code BGR}
   * @param mean       per channel, in the colour order, subtracted from v in 0..255
   * @param std        per channel, divides (v − mean)
   */
  public record Input(String key, String layout, int size, int maxSide, String colorOrder, float[] mean, float[] std) {
    /** True when the channels go blue first. */
    public boolean bgr() {
      return "BGR".equals(colorOrder);
    }
  }

  /**
   * Output tensor.
   *
   * @param key     SavedModel signature output key, or for frozen graphs the tensor name
   * @param layout  {@code NHWC}, {@code NCHW} or {@code HWC}
   * @param channel which channel holds the alpha (3 for RGBA), or {@link #SINGLE_CHANNEL} when the
   *                output must have exactly one channel (a model with more is refused, not misread)
   * @param scale   multiplies the raw value to give alpha in [0, 1] (1/255 for 0..255 outputs)
   */
  public record Output(String key, String layout, int channel, float scale) {
    /** No channel named: the output must be a one-channel matte. */
    public static final int SINGLE_CHANNEL = -1;
  }

  /** True when several images may share one session call. */
  public boolean batched() {
    return !"HWC".equals(input.layout());
  }

  /** Floats per preprocessed image of a fixed-size model (size × size × 3). */
  public int inputFloats() {
    return input.size() * input.size() * 3;
  }

  /** Floats per alpha map of a fixed-size model (size × size). */
  public int outputFloats() {
    return input.size() * input.size();
  }

  /** Reads {@code dir/model.json}; fails with a message naming the model and the problem. */
  public static ModelDescriptor read(Path dir) throws IOException {
    Path file = dir.resolve(FILE_NAME);
    if (!Files.isRegularFile(file)) {
      throw new IOException("model descriptor " + file + " is missing");
    }
    JsonNode json;
    try {
      json = MAPPER.readTree(file.toFile());
    } catch (IOException e) {
      throw new IOException("model descriptor " + file + " is not valid JSON: " + e.getMessage(), e);
    }
    if (json == null || !json.isObject()) {
      throw new IOException("model descriptor " + file + " is not a JSON object");
    }
    String fallbackName = dir.getFileName() == null ? "model" : dir.getFileName().toString();
    return parse(json, fallbackName, dir, dir);
  }

  /**
   * Builds a descriptor from JSON (a {@code model.json} or a {@code config.json} entry).
   *
   * @param fallbackName name to use when the JSON has none
   * @param base         folder that a relative {@code path} is resolved against
   * @param directory    recorded as {@link #directory()}
   */
  public static ModelDescriptor parse(JsonNode json, String fallbackName, Path base, Path directory) throws IOException {
    String name = text(json, "name", fallbackName);
    try {
      return parseNamed(json, name, base, directory);
    } catch (IOException e) {
      throw new IOException("model '" + name + "': " + e.getMessage(), e);
    }
  }

  private static ModelDescriptor parseNamed(JsonNode json, String name, Path base, Path directory) throws IOException {
    if (!name.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")) {
      throw new IOException("invalid name (letters, digits, '.', '_' and '-', at most 64)");
    }
    Kind kind = Kind.parse(text(json, "kind", text(json, "format", Kind.SAVEDMODEL.id())));
    Contract contract = Contract.parse(text(json, "contract", Contract.FIXED.id()));
    String rawPath = text(json, "path", null);
    Path path;
    if (rawPath != null) {
      path = base.resolve(rawPath).normalize();
    } else if (kind == Kind.SAVEDMODEL) {
      path = base;
    } else {
      throw new IOException("'path' is required for kind " + kind.id());
    }
    JsonNode in = json.path("input");
    JsonNode out = json.path("output");
    Input input;
    Output output;
    if (contract == Contract.CVUNET) {
      input = new Input(text(in, "key", text(in, "tensor", CVUNET_INPUT)), "HWC", 0, in.path("maxSide").asInt(0),
          colorOrder(in), floats(in, "mean", 0f), floats(in, "std", 1f));
      output = new Output(text(out, "key", text(out, "tensor", CVUNET_OUTPUT)), "HWC",
          out.path("channel").asInt(RGBA_ALPHA_CHANNEL), scale(out, BYTE_RANGE));
    } else {
      int size = in.path("size").asInt(0);
      if (size <= 0) {
        throw new IOException("input.size (a positive square side) is required for the fixed contract");
      }
      String layout = text(in, "layout", "NHWC").toUpperCase(Locale.ROOT);
      if (!LAYOUTS.contains(layout) || "HWC".equals(layout)) {
        throw new IOException("input.layout must be NHWC or NCHW for the fixed contract, not " + layout);
      }
      String outLayout = text(out, "layout", layout).toUpperCase(Locale.ROOT);
      if (!LAYOUTS.contains(outLayout) || "HWC".equals(outLayout)) {
        throw new IOException("output.layout must be NHWC or NCHW, not " + outLayout);
      }
      input = new Input(text(in, "key", text(in, "tensor", null)), layout, size, 0, colorOrder(in),
          floats(in, "mean", 0f), floats(in, "std", 1f));
      output = new Output(text(out, "key", text(out, "tensor", null)), outLayout,
          out.path("channel").asInt(Output.SINGLE_CHANNEL), scale(out, 1f));
      if (input.key() == null || output.key() == null) {
        throw new IOException("input.key and output.key are required");
      }
    }
    if (output.channel() < Output.SINGLE_CHANNEL) {
      throw new IOException("output.channel must be 0 or more");
    }
    for (float s : input.std()) {
      if (s == 0f) {
        throw new IOException("input.std must not contain 0");
      }
    }
    int sessions = json.path("sessions").asInt(1);
    if (sessions < 1) {
      throw new IOException("sessions must be at least 1");
    }
    String signature = text(json, "signature", DEFAULT_SIGNATURE);
    JsonNode source = json.get("source");
    JsonNode license = json.get("license");
    return new ModelDescriptor(name, text(json, "purpose", ""), kind, path, signature, contract, sessions, input, output,
        source == null || source.isNull() ? null : source, license == null || license.isNull() ? null : license,
        directory);
  }

  private static String text(JsonNode json, String field, String fallback) {
    JsonNode v = json.get(field);
    return v == null || v.isNull() ? fallback : v.asText();
  }

  private static String colorOrder(JsonNode in) throws IOException {
    String order = text(in, "colorOrder", "RGB").toUpperCase(Locale.ROOT);
    if (!order.equals("RGB") && !order.equals("BGR")) {
      throw new IOException("input.colorOrder must be RGB or BGR, not " + order);
    }
    return order;
  }

  private static float[] floats(JsonNode in, String field, float fallback) throws IOException {
    JsonNode v = in.get(field);
    if (v == null || v.isNull()) {
      return new float[] {fallback, fallback, fallback};
    }
    if (v.isNumber()) {
      return new float[] {v.floatValue(), v.floatValue(), v.floatValue()};
    }
    if (!v.isArray() || v.size() != 3) {
      throw new IOException("input." + field + " must be a number or an array of 3 numbers");
    }
    return new float[] {(float) v.get(0).asDouble(), (float) v.get(1).asDouble(), (float) v.get(2).asDouble()};
  }

  /** {@code output.range} [lo, hi] → the factor that maps hi to 1. */
  private static float scale(JsonNode out, float defaultMax) throws IOException {
    JsonNode r = out.get("range");
    if (r == null || r.isNull()) {
      return 1f / defaultMax;
    }
    if (!r.isArray() || r.size() != 2 || r.get(1).asDouble() <= 0) {
      throw new IOException("output.range must be [0, max] with max > 0");
    }
    return (float) (1.0 / r.get(1).asDouble());
  }

  /** The contract as shown by {@code GET /api/v1/models}. */
  public ObjectNode contractJson() {
    ObjectNode c = MAPPER.createObjectNode();
    c.put("name", contract.id());
    c.put("layout", input.layout());
    if (input.size() > 0) {
      c.put("inputSize", input.size());
    } else {
      c.put("inputSize", "any");
      if (input.maxSide() > 0) {
        c.put("maxSide", input.maxSide());
      }
    }
    c.put("colorOrder", input.colorOrder());
    c.put("batched", batched());
    return c;
  }
}
