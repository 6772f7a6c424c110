package io.unimatte.inference.impl;

import io.unimatte.inference.MattingSession;
import io.unimatte.inference.ModelDescriptor;
import io.unimatte.inference.SessionOptions;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.FloatDataBuffer;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GPUOptions;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.RewriterConfig;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.types.TFloat32;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/** A {@link MattingSession} over a TensorFlow SavedModel, loaded with TF Java. */
public final class TensorFlowMattingSession implements MattingSession {
  private static final Logger LOG = Logger.getLogger(TensorFlowMattingSession.class.getName());
  private static final String SERVE_TAG = "serve";
  private static final String GPU_PROBE_DEVICE = "/device:GPU:0";

  private final ModelDescriptor descriptor;
  private final SavedModelBundle bundle;
  private final String inputName;
  private final String outputName;
  private final String device;

  private TensorFlowMattingSession(ModelDescriptor descriptor, SavedModelBundle bundle, String inputName,
                                   String outputName, String device) {
    this.descriptor = descriptor;
    this.bundle = bundle;
    this.inputName = inputName;
    this.outputName = outputName;
    this.device = device;
  }

  /** Loads the SavedModel in {@code descriptor.directory()} with the given options. */
  public static TensorFlowMattingSession load(ModelDescriptor descriptor, SessionOptions options) throws IOException {
    if (!Files.isRegularFile(descriptor.directory().resolve("saved_model.pb"))) {
      throw new IOException("model '" + descriptor.name() + "': no saved_model.pb in " + descriptor.directory());
    }
    boolean gpu = gpuAvailable();
    SavedModelBundle bundle;
    try {
      bundle = SavedModelBundle.loader(descriptor.directory().toString())
          .withTags(SERVE_TAG)
          .withConfigProto(configProto(options, gpu))
          .load();
    } catch (RuntimeException e) {
      throw new IOException("model '" + descriptor.name() + "' cannot be loaded: " + e.getMessage(), e);
    }
    SignatureDef sig = bundle.metaGraphDef().getSignatureDefMap().get(descriptor.signature());
    if (sig == null || !sig.getInputsMap().containsKey(descriptor.input().key())
        || !sig.getOutputsMap().containsKey(descriptor.output().key())) {
      bundle.close();
      throw new IOException("model '" + descriptor.name() + "': signature '" + descriptor.signature()
          + "' with input '" + descriptor.input().key() + "' and output '" + descriptor.output().key()
          + "' not found in the SavedModel");
    }
    String device = gpu ? "gpu:0" : "cpu";
    LOG.info("event=model_loaded model=" + descriptor.name() + " device=" + device
        + " intraOp=" + options.intraOpThreads() + " interOp=" + options.interOpThreads()
        + " bf16=" + options.bf16() + " gpuFp16=" + options.gpuFp16()
        + " onednn=" + System.getenv().getOrDefault("TF_ENABLE_ONEDNN_OPTS", "tf-default"));
    return new TensorFlowMattingSession(descriptor, bundle,
        sig.getInputsMap().get(descriptor.input().key()).getName(),
        sig.getOutputsMap().get(descriptor.output().key()).getName(), device);
  }

  static ConfigProto configProto(SessionOptions options, boolean gpu) {
    RewriterConfig.Builder rewriter = RewriterConfig.newBuilder();
    if (!gpu && options.bf16()) {
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
  public List<float[]> run(List<float[]> inputs) {
    int n = inputs.size();
    int size = descriptor.input().size();
    int inFloats = descriptor.inputFloats();
    int outFloats = descriptor.outputFloats();
    // Items are copied straight into the tensor's native buffer: no n-image staging array.
    try (TFloat32 in = TFloat32.tensorOf(Shape.of(n, size, size, 3))) {
      FloatDataBuffer buf = in.asRawTensor().data().asFloats();
      for (int i = 0; i < n; i++) {
        float[] x = inputs.get(i);
        if (x.length != inFloats) {
          throw new IllegalArgumentException("input " + i + " has " + x.length + " floats, expected " + inFloats);
        }
        buf.offset((long) i * inFloats).write(x);
      }
      try (Result r = bundle.session().runner().feed(inputName, in).fetch(outputName).run()) {
        Tensor out = r.get(0);
        if (out.shape().size() != (long) n * outFloats) {
          throw new IllegalStateException("model output has shape " + out.shape() + ", expected "
              + n + " × " + size + "² alpha");
        }
        FloatDataBuffer outBuf = ((TFloat32) out).asRawTensor().data().asFloats();
        List<float[]> alphas = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          float[] a = new float[outFloats];
          outBuf.offset((long) i * outFloats).read(a);
          alphas.add(a);
        }
        return alphas;
      }
    }
  }

  @Override
  public void close() {
    bundle.close();
  }

  @Override
  public String toString() {
    return "TensorFlowMattingSession[" + descriptor.name() + ", " + device + ", in=" + inputName
        + ", out=" + outputName + "]";
  }
}
