package io.unimatte.inference.impl;

import io.unimatte.inference.MattingSession;
import io.unimatte.inference.ModelInput;
import io.unimatte.inference.SessionOptions;
import io.unimatte.modelimport.ModelDescriptor;
import io.unimatte.modelimport.OnnxGraphConverter;
import io.unimatte.modelimport.OnnxSavedModelCache;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.FloatDataBuffer;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GPUOptions;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.RewriterConfig;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.types.TFloat32;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * A {@link MattingSession} run by TF Java: a SavedModel (tensors found through its signature), a
 * frozen {@code GraphDef} (tensors named directly), or an ONNX file converted to a SavedModel on first
 * load (kept beside the file, reconverted when the file changes).
 */
public final class TensorFlowMattingSession implements MattingSession {
  private static final Logger LOG = Logger.getLogger(TensorFlowMattingSession.class.getName());
  private static final String SERVE_TAG = "serve";
  private static final String GPU_PROBE_DEVICE = "/device:GPU:0";

  private final ModelDescriptor descriptor;
  private final AutoCloseable owner;
  private final Session session;
  private final String inputName;
  private final String outputName;
  private final String inLayout;
  private final String outLayout;
  private final String device;
  /** Set once by {@link #load}, before the session is handed out. */
  private String precision = "fp32";
  private String precisionReason;

  private TensorFlowMattingSession(ModelDescriptor descriptor, AutoCloseable owner, Session session, String inputName,
                                   String outputName, String inLayout, String outLayout, String device) {
    this.descriptor = descriptor;
    this.owner = owner;
    this.session = session;
    this.inputName = inputName;
    this.outputName = outputName;
    this.inLayout = inLayout;
    this.outLayout = outLayout;
    this.device = device;
  }

  /**
   * Loads the model the descriptor points at. Failures are {@link IOException}s whose message names
   * the model and the problem (missing file, not a model, tensor names not found).
   */
  public static TensorFlowMattingSession load(ModelDescriptor descriptor, SessionOptions options) throws IOException {
    boolean gpu = gpuAvailable();
    ConfigProto config = configProto(options, gpu);
    String device = gpu ? "gpu:0" : "cpu";
    TensorFlowMattingSession s = switch (descriptor.kind()) {
      case SAVEDMODEL -> fromSavedModel(descriptor, descriptor.path(), descriptor.signature(),
          descriptor.input().key(), descriptor.output().key(), descriptor.input().layout(),
          descriptor.output().layout(), config, device);
      case FROZEN_GRAPH -> fromFrozenGraph(descriptor, config, device);
      case ONNX -> fromOnnx(descriptor, config, device);
    };
    if (gpu) {
      s.precision = options.gpuFp16() ? "fp16" : "fp32";
      s.precisionReason = "inference.gpuFp16=" + options.gpuFp16();
    } else {
      s.precision = options.bf16().enabled() ? "bf16" : "fp32";
      s.precisionReason = options.bf16().reason();
    }
    LOG.info("event=model_loaded model=" + descriptor.name() + " kind=" + descriptor.kind().id() + " device=" + device
        + " intraOp=" + options.intraOpThreads() + " interOp=" + options.interOpThreads()
        + " precision=" + s.precision + " reason=\"" + s.precisionReason + "\""
        + " onednn=" + System.getenv().getOrDefault("TF_ENABLE_ONEDNN_OPTS", "tf-default"));
    return s;
  }

  private static IOException problem(ModelDescriptor d, String what) {
    return new IOException("model '" + d.name() + "': " + what);
  }

  private static TensorFlowMattingSession fromSavedModel(ModelDescriptor d, Path dir, String signature, String inKey,
                                                         String outKey, String inLayout, String outLayout,
                                                         ConfigProto config, String device) throws IOException {
    if (!Files.isRegularFile(dir.resolve("saved_model.pb"))) {
      throw problem(d, "no saved_model.pb in " + dir);
    }
    SavedModelBundle bundle;
    try {
      bundle = SavedModelBundle.loader(dir.toString()).withTags(SERVE_TAG).withConfigProto(config).load();
    } catch (RuntimeException e) {
      throw problem(d, "cannot be loaded from " + dir + ": " + firstLine(e));
    }
    SignatureDef sig = bundle.metaGraphDef().getSignatureDefMap().get(signature);
    if (sig == null || !sig.getInputsMap().containsKey(inKey) || !sig.getOutputsMap().containsKey(outKey)) {
      bundle.close();
      throw problem(d, "signature '" + signature + "' with input '" + inKey + "' and output '" + outKey
          + "' not found in the SavedModel (it has " + bundle.metaGraphDef().getSignatureDefMap().keySet() + ")");
    }
    // Keep the graph and session, not the bundle: it holds the parsed MetaGraphDef, which for a model
    // with its weights in the graph is as large as saved_model.pb (176 MB of Java heap for ISNet) and
    // is not needed once the tensor names are read. Closing both is what bundle.close() does.
    Session session = bundle.session();
    Graph graph = bundle.graph();
    AutoCloseable owner = () -> {
      session.close();
      graph.close();
    };
    return new TensorFlowMattingSession(d, owner, session, sig.getInputsMap().get(inKey).getName(),
        sig.getOutputsMap().get(outKey).getName(), inLayout, outLayout, device);
  }

  private static TensorFlowMattingSession fromFrozenGraph(ModelDescriptor d, ConfigProto config, String device)
      throws IOException {
    Path file = d.path();
    if (!Files.isRegularFile(file)) {
      throw problem(d, "frozen graph " + file + " is missing");
    }
    GraphDef def;
    try {
      def = GraphDef.parseFrom(Files.readAllBytes(file));
    } catch (IOException e) {
      throw problem(d, file + " is not a TensorFlow GraphDef: " + firstLine(e));
    }
    Graph g = new Graph();
    try {
      g.importGraphDef(def);
    } catch (RuntimeException e) {
      g.close();
      throw problem(d, file + " cannot be imported: " + firstLine(e));
    }
    for (String tensor : new String[] {d.input().key(), d.output().key()}) {
      String op = tensor.contains(":") ? tensor.substring(0, tensor.lastIndexOf(':')) : tensor;
      if (g.operation(op) == null) {
        g.close();
        throw problem(d, "tensor '" + tensor + "' not found in " + file);
      }
    }
    Session session = new Session(g, config);
    AutoCloseable owner = () -> {
      session.close();
      g.close();
    };
    return new TensorFlowMattingSession(d, owner, session, d.input().key(), d.output().key(), d.input().layout(),
        d.output().layout(), device);
  }

  /** Converts the ONNX file once (per content) to a SavedModel beside it, then loads that. */
  private static TensorFlowMattingSession fromOnnx(ModelDescriptor d, ConfigProto config, String device)
      throws IOException {
    Path dir = OnnxSavedModelCache.ensureConverted(d);
    return fromSavedModel(d, dir, OnnxGraphConverter.SIGNATURE, OnnxGraphConverter.INPUT_KEY,
        OnnxGraphConverter.OUTPUT_KEY, "NHWC", "NHWC", config, device);
  }

  private static String firstLine(Throwable e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  static ConfigProto configProto(SessionOptions options, boolean gpu) {
    RewriterConfig.Builder rewriter = RewriterConfig.newBuilder();
    if (!gpu && options.bf16().enabled()) {
      rewriter.setAutoMixedPrecisionOnednnBfloat16(RewriterConfig.Toggle.ON);
    }
    if (gpu && options.gpuFp16()) {
      rewriter.setAutoMixedPrecision(RewriterConfig.Toggle.ON);
    }
    return ConfigProto.newBuilder()
        .setIntraOpParallelismThreads(options.intraOpThreads())
        .setInterOpParallelismThreads(options.interOpThreads())
        .setAllowSoftPlacement(true)
        .setGpuOptions(GPUOptions.newBuilder().setAllowGrowth(true))
        .setGraphOptions(GraphOptions.newBuilder().setRewriteOptions(rewriter))
        .build();
  }

  /** True when TensorFlow can place an op on a GPU (the {@code gpu} build on a host with CUDA). */
  static boolean gpuAvailable() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g).withDevice(org.tensorflow.DeviceSpec.newBuilder()
          .deviceType(org.tensorflow.DeviceSpec.DeviceType.GPU).deviceIndex(0).build());
      var c = tf.constant(1f);
      ConfigProto strict = ConfigProto.newBuilder().setAllowSoftPlacement(false)
          .setGpuOptions(GPUOptions.newBuilder().setAllowGrowth(true)).build();
      try (Session s = new Session(g, strict); Result r = s.runner().fetch(c).run()) {
        return r.size() == 1;
      }
    } catch (RuntimeException | UnsatisfiedLinkError e) {
      return false;
    }
  }

  @Override
  public ModelDescriptor descriptor() {
    return descriptor;
  }

  @Override
  public String device() {
    return device;
  }

  @Override
  public String precision() {
    return precision;
  }

  @Override
  public String precisionReason() {
    return precisionReason;
  }

  @Override
  public List<float[]> run(List<ModelInput> inputs) {
    if (!descriptor.batched()) {
      List<float[]> out = new ArrayList<>(inputs.size());
      for (ModelInput in : inputs) {
        out.add(runOne(in));
      }
      return out;
    }
    int n = inputs.size();
    int size = descriptor.input().size();
    int inFloats = descriptor.inputFloats();
    int plane = descriptor.outputFloats();
    boolean nchw = "NCHW".equals(inLayout);
    Shape shape = nchw ? Shape.of(n, 3, size, size) : Shape.of(n, size, size, 3);
    // items are copied straight into the tensor's native buffer: no n-image staging array
    try (TFloat32 in = TFloat32.tensorOf(shape)) {
      FloatDataBuffer buf = in.asRawTensor().data().asFloats();
      for (int i = 0; i < n; i++) {
        ModelInput x = inputs.get(i);
        if (x.width() != size || x.height() != size) {
          throw new IllegalArgumentException("input " + i + " is " + x.width() + "×" + x.height() + ", expected "
              + size + "×" + size);
        }
        buf.offset((long) i * inFloats).write(nchw ? toChw(x.pixels(), plane) : x.pixels());
      }
      try (Result r = session.runner().feed(inputName, in).fetch(outputName).run()) {
        TFloat32 out = (TFloat32) r.get(0);
        long total = out.shape().size();
        if (total % ((long) n * plane) != 0) {
          throw new IllegalStateException("model output has shape " + out.shape() + ", expected " + n + " × "
              + size + "² × channels");
        }
        int channels = (int) (total / ((long) n * plane));
        FloatDataBuffer outBuf = out.asRawTensor().data().asFloats();
        List<float[]> alphas = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          alphas.add(alphaChannel(outBuf.offset((long) i * plane * channels), plane, channels,
              "NCHW".equals(outLayout)));
        }
        return alphas;
      }
    }
  }

  /** One image of any size: {@code [H, W, 3]} in, {@code [H, W, C]} out. */
  private float[] runOne(ModelInput x) {
    int plane = x.width() * x.height();
    try (TFloat32 in = TFloat32.tensorOf(Shape.of(x.height(), x.width(), 3))) {
      in.asRawTensor().data().asFloats().write(x.pixels());
      try (Result r = session.runner().feed(inputName, in).fetch(outputName).run()) {
        TFloat32 out = (TFloat32) r.get(0);
        long total = out.shape().size();
        if (total % plane != 0) {
          throw new IllegalStateException("model output has shape " + out.shape() + ", expected " + x.height()
              + " × " + x.width() + " × channels");
        }
        return alphaChannel(out.asRawTensor().data().asFloats(), plane, (int) (total / plane), false);
      }
    }
  }

  private float[] alphaChannel(FloatDataBuffer buf, int plane, int channels, boolean channelsFirst) {
    int c = descriptor.output().channel();
    if (c == ModelDescriptor.Output.SINGLE_CHANNEL) {
      if (channels != 1) {
        throw new IllegalStateException("model output has " + channels + " channels where one alpha channel was "
            + "expected; set output.channel to the alpha's channel");
      }
      c = 0;
    }
    if (c >= channels) {
      throw new IllegalStateException("model output has " + channels + " channels; alpha channel " + c
          + " does not exist");
    }
    float scale = descriptor.output().scale();
    float[] a = new float[plane];
    if (channels == 1 || channelsFirst) {
      buf.offset((long) c * plane).read(a);
    } else {
      float[] all = new float[plane * channels];
      buf.read(all);
      for (int p = 0; p < plane; p++) {
        a[p] = all[p * channels + c];
      }
    }
    for (int p = 0; p < plane; p++) {
      float v = a[p] * scale;
      a[p] = v < 0f ? 0f : Math.min(v, 1f);
    }
    return a;
  }

  private static float[] toChw(float[] hwc, int plane) {
    float[] chw = new float[hwc.length];
    for (int p = 0; p < plane; p++) {
      chw[p] = hwc[p * 3];
      chw[plane + p] = hwc[p * 3 + 1];
      chw[2 * plane + p] = hwc[p * 3 + 2];
    }
    return chw;
  }

  @Override
  public void close() {
    try {
      owner.close();
    } catch (Exception e) {
      LOG.warning("event=model_close_failed model=" + descriptor.name() + " error=" + e.getMessage());
    }
  }

  @Override
  public String toString() {
    return "TensorFlowMattingSession[" + descriptor.name() + ", " + device + ", in=" + inputName
        + ", out=" + outputName + "]";
  }
}
