package io.unimatte.modelimport;

import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.image.ResizeBilinear;
import org.tensorflow.op.image.ResizeNearestNeighbor;
import org.tensorflow.op.nn.Conv2d;
import org.tensorflow.types.TFloat32;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Translates a convolutional ONNX image network (NCHW) into a TensorFlow graph (NHWC) and
 * exports it as a SavedModel with one signature: {@code image} [N, S, S, C] → {@code alpha}
 * (the chosen ONNX output, NHWC).
 *
 * <p>Only the part of the ONNX graph that the requested output depends on is built, so unused
 * side outputs cost nothing at run time. Size arithmetic (Shape → Slice → Concat → Resize) is
 * evaluated here, ahead of time, from the static input size; the batch dimension stays dynamic.
 * Caveat: ops outside {@link #SUPPORTED_OPS}, grouped convolutions and pooling other than
 * ceil/floor-mode without explicit pads are refused with an {@link UnsupportedOpException}.
 *
 * <p>Longer than most files on purpose: one small method per supported ONNX op, beside the layout
 * rules (NCHW → NHWC) they all share.
 */
public final class OnnxGraphConverter {
  /** ONNX ops this converter translates. */
  public static final Set<String> SUPPORTED_OPS = Set.of("Conv", "Relu", "MaxPool", "Concat", "Resize", "Add", "Mul",
      "Sigmoid", "Cast", "Constant", "Shape", "Slice", "Gather", "Unsqueeze", "Identity");
  /** Signature key, input and output names of the exported SavedModel. */
  public static final String SIGNATURE = "serving_default";
  public static final String INPUT_KEY = "image";
  public static final String OUTPUT_KEY = "alpha";
  private static final String SERVE_TAG = "serve";
  private static final int ONNX_FLOAT = 1;
  /** ONNX float, float16, double and bfloat16: the graph is computed in float32 whatever it asks. */
  private static final Set<Long> ONNX_FLOAT_TYPES = Set.of(1L, 10L, 11L, 16L);

  /** A value known ahead of time (weights, constants, sizes): ONNX layout, as doubles. */
  private record Static(long[] shape, double[] values) {
    long[] longs() {
      long[] out = new long[values.length];
      for (int i = 0; i < values.length; i++) {
        out[i] = (long) values[i];
      }
      return out;
    }
  }

  /** A value computed at run time: a TF tensor in NHWC, with its ONNX (NCHW) shape; batch = -1. */
  private record Dynamic(Operand<TFloat32> op, long[] nchw) {
  }

  private final OnnxGraph graph;
  private final Map<String, OnnxNode> producer = new HashMap<>();
  private final Map<String, Object> values = new HashMap<>();
  private Ops tf;

  private OnnxGraphConverter(OnnxGraph graph) {
    this.graph = graph;
    for (OnnxNode n : graph.nodes()) {
      for (String out : n.outputs()) {
        producer.put(out, n);
      }
    }
  }

  /**
   * Converts {@code model} and writes the SavedModel to {@code dir}.
   *
   * @param outputName ONNX output to expose as {@code alpha} (null: the graph's first output)
   * @param size       spatial input size S (the model is fixed-size)
   */
  public static void convert(OnnxModel model, String outputName, int size, Path dir) throws IOException {
    OnnxGraph g = model.graph();
    String out = outputName != null ? outputName : g.outputs().get(0).name();
    new OnnxGraphConverter(g).build(out, size, dir);
  }

  private void build(String outputName, int size, Path dir) throws IOException {
    List<OnnxValueInfo> feeds = graph.feedInputs();
    if (feeds.size() != 1) {
      throw new IllegalArgumentException("expected one image input, the graph has " + feeds.size());
    }
    OnnxValueInfo in = feeds.get(0);
    long channels = in.dims().size() == 4 && in.dims().get(1) > 0 ? in.dims().get(1) : 3;
    try (Graph g = new Graph()) {
      tf = Ops.create(g);
      Placeholder<TFloat32> image = tf.withName(INPUT_KEY).placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, size, size, channels)));
      values.put(in.name(), new Dynamic(image, new long[] {-1, channels, size, size}));
      for (Map.Entry<String, OnnxTensor> init : graph.initializers().entrySet()) {
        values.put(init.getKey(), toStatic(init.getValue()));
      }
      for (OnnxNode node : topologicalOrder(outputName)) {
        translate(node);
      }
      Object result = values.get(outputName);
      if (!(result instanceof Dynamic d)) {
        throw new IllegalArgumentException("output '" + outputName + "' is not computed from the image");
      }
      Operand<TFloat32> alpha = tf.withName(OUTPUT_KEY).identity(d.op());
      try (Session s = new Session(g)) {
        SavedModelBundle.exporter(dir.toString()).withTags(SERVE_TAG).withSession(s)
            .withSignature(Signature.builder().key(SIGNATURE).input(INPUT_KEY, image).output(OUTPUT_KEY, alpha).build())
            .export();
      }
    }
  }

  /** The nodes {@code output} depends on, producers first (ONNX files need not be sorted). */
  private List<OnnxNode> topologicalOrder(String output) {
    List<OnnxNode> order = new ArrayList<>();
    Set<OnnxNode> done = new HashSet<>();
    Set<OnnxNode> onPath = new HashSet<>();
    // iterative DFS: ISNet is deep enough to make recursion a risk on small stacks
    List<Object[]> stack = new ArrayList<>();
    OnnxNode root = producer.get(output);
    if (root == null) {
      throw new IllegalArgumentException("no node produces output '" + output + "'");
    }
    stack.add(new Object[] {root, 0});
    onPath.add(root);
    while (!stack.isEmpty()) {
      Object[] top = stack.get(stack.size() - 1);
      OnnxNode n = (OnnxNode) top[0];
      int i = (int) top[1];
      if (i < n.inputs().size()) {
        top[1] = i + 1;
        OnnxNode p = producer.get(n.inputs().get(i));
        if (p != null && !done.contains(p)) {
          if (!onPath.add(p)) {
            throw new IllegalArgumentException("the ONNX graph has a cycle at node '" + p.name() + "'");
          }
          stack.add(new Object[] {p, 0});
        }
      } else {
        stack.remove(stack.size() - 1);
        onPath.remove(n);
        if (done.add(n)) {
          order.add(n);
        }
      }
    }
    return order;
  }

  private void translate(OnnxNode n) {
    if (!n.domain().isEmpty() && !n.domain().equals("ai.onnx")) {
      throw unsupported(n, "domain '" + n.domain() + "'");
    }
    Object result = switch (n.opType()) {
      case "Conv" -> conv(n);
      case "Relu" -> new Dynamic(tf.nn.relu(dyn(n, 0).op()), dyn(n, 0).nchw());
      case "Sigmoid" -> new Dynamic(tf.math.sigmoid(dyn(n, 0).op()), dyn(n, 0).nchw());
      case "MaxPool" -> maxPool(n);
      case "Concat" -> concat(n);
      case "Resize" -> resize(n);
      case "Add", "Mul" -> binary(n);
      case "Cast" -> cast(n);
      case "Identity" -> value(n, 0);
      case "Constant" -> constant(n);
      case "Shape" -> shape(n);
      case "Slice" -> slice(n);
      case "Gather" -> gather(n);
      case "Unsqueeze" -> unsqueeze(n);
      default -> throw unsupported(n, null);
    };
    values.put(n.outputs().get(0), result);
  }

  private UnsupportedOpException unsupported(OnnxNode n, String detail) {
    return new UnsupportedOpException(n.opType(), n.name(), detail, SUPPORTED_OPS);
  }

  private Object value(OnnxNode n, int i) {
    Object v = values.get(n.input(i));
    if (v == null) {
      throw new IllegalArgumentException("node '" + n.name() + "' reads '" + n.input(i) + "', which nothing produces");
    }
    return v;
  }

  private Dynamic dyn(OnnxNode n, int i) {
    if (value(n, i) instanceof Dynamic d) {
      return d;
    }
    throw unsupported(n, "input " + i + " must be computed from the image");
  }

  private Static stat(OnnxNode n, int i) {
    if (value(n, i) instanceof Static s) {
      return s;
    }
    throw unsupported(n, "input " + i + " must be known ahead of time");
  }

  private boolean hasInput(OnnxNode n, int i) {
    return n.inputs().size() > i && !n.input(i).isEmpty();
  }

  private static Static toStatic(OnnxTensor t) {
    double[] v;
    if (t.dataType().isFloatingPoint()) {
      float[] f = t.floatValues();
      v = new double[f.length];
      for (int i = 0; i < f.length; i++) {
        v[i] = f[i];
      }
    } else {
      v = Arrays.stream(t.longValues()).asDoubleStream().toArray();
    }
    return new Static(t.shape(), v);
  }

  private Dynamic conv(OnnxNode n) {
    Dynamic x = dyn(n, 0);
    Static w = stat(n, 1);
    if (n.intAttr("group", 1) != 1) {
      throw unsupported(n, "grouped convolution (group=" + n.intAttr("group", 1) + ")");
    }
    String autoPad = n.stringAttr("auto_pad", "NOTSET");
    if (!autoPad.equals("NOTSET")) {
      throw unsupported(n, "auto_pad=" + autoPad);
    }
    long out = w.shape()[0];
    long cin = w.shape()[1];
    int kh = (int) w.shape()[2];
    int kw = (int) w.shape()[3];
    long[] strides = orDefault(n.intsAttr("strides"), 1, 1);
    long[] dil = orDefault(n.intsAttr("dilations"), 1, 1);
    long[] pads = orDefault(n.intsAttr("pads"), 0, 0, 0, 0);
    // OIHW → HWIO
    float[] hwio = new float[w.values().length];
    for (int o = 0; o < out; o++) {
      for (int c = 0; c < cin; c++) {
        for (int y = 0; y < kh; y++) {
          for (int xx = 0; xx < kw; xx++) {
            hwio[(int) (((y * kw + xx) * cin + c) * out + o)] =
                (float) w.values()[(int) (((o * cin + c) * kh + y) * kw + xx)];
          }
        }
      }
    }
    Operand<TFloat32> filter = tf.constant(Shape.of(kh, kw, cin, out), DataBuffers.of(hwio, true, false));
    List<Long> stride = List.of(1L, strides[0], strides[1], 1L);
    Conv2d.Options dilations = Conv2d.dilations(List.of(1L, dil[0], dil[1], 1L));
    Operand<TFloat32> y;
    if (Arrays.stream(pads).allMatch(p -> p == 0)) {
      y = tf.nn.conv2d(x.op(), filter, stride, "VALID", dilations);
    } else {
      y = tf.nn.conv2d(x.op(), filter, stride, "EXPLICIT", dilations,
          Conv2d.explicitPaddings(List.of(0L, 0L, pads[0], pads[2], pads[1], pads[3], 0L, 0L)));
    }
    if (hasInput(n, 2)) {
      float[] b = toFloats(stat(n, 2).values());
      y = tf.nn.biasAdd(y, tf.constant(Shape.of(b.length), DataBuffers.of(b, true, false)));
    }
    long h = (x.nchw()[2] + pads[0] + pads[2] - dil[0] * (kh - 1) - 1) / strides[0] + 1;
    long wd = (x.nchw()[3] + pads[1] + pads[3] - dil[1] * (kw - 1) - 1) / strides[1] + 1;
    return new Dynamic(y, new long[] {-1, out, h, wd});
  }

  private Dynamic maxPool(OnnxNode n) {
    Dynamic x = dyn(n, 0);
    long[] k = n.intsAttr("kernel_shape");
    long[] s = orDefault(n.intsAttr("strides"), 1, 1);
    long[] pads = orDefault(n.intsAttr("pads"), 0, 0, 0, 0);
    boolean ceil = n.intAttr("ceil_mode", 0) == 1;
    if (Arrays.stream(pads).anyMatch(p -> p != 0) || !n.stringAttr("auto_pad", "NOTSET").equals("NOTSET")
        || (n.intsAttr("dilations") != null && Arrays.stream(n.intsAttr("dilations")).anyMatch(d -> d != 1))) {
      throw unsupported(n, "MaxPool with explicit pads, auto_pad or dilations");
    }
    long[] outHw = new long[2];
    String padding = "VALID";
    for (int a = 0; a < 2; a++) {
      long size = x.nchw()[2 + a];
      long floorOut = (size - k[a]) / s[a] + 1;
      long ceilOut = Math.floorDiv(size - k[a] + s[a] - 1, s[a]) + 1;
      outHw[a] = ceil ? ceilOut : floorOut;
    }
    if (ceil && (outHw[0] != (x.nchw()[2] - k[0]) / s[0] + 1 || outHw[1] != (x.nchw()[3] - k[1]) / s[1] + 1)) {
      // ceil_mode adds a partial window at the end; TF's SAME pads there too when it needs one pixel
      for (int a = 0; a < 2; a++) {
        long size = x.nchw()[2 + a];
        long sameOut = (size + s[a] - 1) / s[a];
        long padTotal = Math.max((sameOut - 1) * s[a] + k[a] - size, 0);
        if (sameOut != outHw[a] || padTotal / 2 != 0) {
          throw unsupported(n, "ceil_mode pooling that TF SAME padding cannot express");
        }
      }
      padding = "SAME";
    }
    Operand<TFloat32> y = tf.nn.maxPool(x.op(), tf.constant(new int[] {1, (int) k[0], (int) k[1], 1}),
        tf.constant(new int[] {1, (int) s[0], (int) s[1], 1}), padding);
    return new Dynamic(y, new long[] {-1, x.nchw()[1], outHw[0], outHw[1]});
  }

  private Object concat(OnnxNode n) {
    long axis = n.intAttr("axis", 0);
    if (value(n, 0) instanceof Static) {
      List<Double> all = new ArrayList<>();
      for (int i = 0; i < n.inputs().size(); i++) {
        for (double d : stat(n, i).values()) {
          all.add(d);
        }
      }
      return new Static(new long[] {all.size()}, all.stream().mapToDouble(Double::doubleValue).toArray());
    }
    if (axis < 0) {
      axis += 4;
    }
    if (axis != 1) {
      throw unsupported(n, "Concat of image tensors on axis " + axis + " (only channels)");
    }
    List<Operand<TFloat32>> parts = new ArrayList<>();
    long channels = 0;
    Dynamic first = dyn(n, 0);
    for (int i = 0; i < n.inputs().size(); i++) {
      Dynamic d = dyn(n, i);
      parts.add(d.op());
      channels += d.nchw()[1];
    }
    return new Dynamic(tf.concat(parts, tf.constant(3)),
        new long[] {-1, channels, first.nchw()[2], first.nchw()[3]});
  }

  private Dynamic resize(OnnxNode n) {
    Dynamic x = dyn(n, 0);
    long h;
    long w;
    if (hasInput(n, 3)) {
      long[] sizes = stat(n, 3).longs();
      h = sizes[sizes.length - 2];
      w = sizes[sizes.length - 1];
    } else if (hasInput(n, 2)) {
      double[] scales = stat(n, 2).values();
      h = (long) Math.floor(x.nchw()[2] * scales[scales.length - 2]);
      w = (long) Math.floor(x.nchw()[3] * scales[scales.length - 1]);
    } else {
      throw unsupported(n, "Resize without scales or sizes");
    }
    String mode = n.stringAttr("mode", "nearest");
    String ct = n.stringAttr("coordinate_transformation_mode", "half_pixel");
    boolean half = ct.equals("half_pixel") || ct.equals("pytorch_half_pixel");
    boolean align = ct.equals("align_corners");
    if (!half && !align && !ct.equals("asymmetric")) {
      throw unsupported(n, "coordinate_transformation_mode=" + ct);
    }
    if (n.intAttr("antialias", 0) != 0) {
      throw unsupported(n, "antialiased Resize");
    }
    Operand<org.tensorflow.types.TInt32> size = tf.constant(new int[] {(int) h, (int) w});
    Operand<TFloat32> y;
    if (mode.equals("linear")) {
      y = tf.image.resizeBilinear(x.op(), size, ResizeBilinear.halfPixelCenters(half), ResizeBilinear.alignCorners(align));
    } else if (mode.equals("nearest")) {
      y = tf.image.resizeNearestNeighbor(x.op(), size, ResizeNearestNeighbor.halfPixelCenters(half),
          ResizeNearestNeighbor.alignCorners(align));
    } else {
      throw unsupported(n, "Resize mode=" + mode);
    }
    return new Dynamic(y, new long[] {-1, x.nchw()[1], h, w});
  }

  private Object binary(OnnxNode n) {
    boolean add = n.opType().equals("Add");
    Object a = value(n, 0);
    Object b = value(n, 1);
    if (a instanceof Static sa && b instanceof Static sb) {
      double[] r = new double[Math.max(sa.values().length, sb.values().length)];
      for (int i = 0; i < r.length; i++) {
        double x = sa.values()[sa.values().length == 1 ? 0 : i];
        double y = sb.values()[sb.values().length == 1 ? 0 : i];
        r[i] = add ? x + y : x * y;
      }
      return new Static(sa.values().length >= sb.values().length ? sa.shape() : sb.shape(), r);
    }
    Dynamic d = a instanceof Dynamic da ? da : (Dynamic) b;
    Operand<TFloat32> x = toOperand(a, n);
    Operand<TFloat32> y = toOperand(b, n);
    return new Dynamic(add ? tf.math.add(x, y) : tf.math.mul(x, y), d.nchw());
  }

  /** A dynamic value as is; a constant as a scalar or a per-channel NHWC vector. */
  private Operand<TFloat32> toOperand(Object v, OnnxNode n) {
    if (v instanceof Dynamic d) {
      return d.op();
    }
    Static s = (Static) v;
    float[] f = toFloats(s.values());
    if (f.length == 1) {
      return tf.constant(f[0]);
    }
    long[] shape = s.shape();
    boolean perChannel = shape.length >= 3 && shape[shape.length - 1] == 1 && shape[shape.length - 2] == 1;
    if (!perChannel) {
      throw unsupported(n, "broadcast of a constant of shape " + Arrays.toString(shape));
    }
    return tf.constant(Shape.of(f.length), DataBuffers.of(f, true, false));
  }

  private Object cast(OnnxNode n) {
    Object v = value(n, 0);
    long to = n.intAttr("to", ONNX_FLOAT);
    if (v instanceof Dynamic d) {
      if (!ONNX_FLOAT_TYPES.contains(to)) {
        throw unsupported(n, "Cast of image tensors to ONNX type " + to);
      }
      return d;
    }
    Static s = (Static) v;
    if (ONNX_FLOAT_TYPES.contains(to)) {
      return s;
    }
    return new Static(s.shape(), Arrays.stream(s.values()).map(d -> (long) d).toArray());
  }

  private Static constant(OnnxNode n) {
    OnnxAttribute value = n.attributes().get("value");
    if (value == null || value.t() == null) {
      throw unsupported(n, "Constant without a tensor 'value'");
    }
    return toStatic(value.t());
  }

  private Static shape(OnnxNode n) {
    long[] s = value(n, 0) instanceof Dynamic d ? d.nchw() : ((Static) value(n, 0)).shape();
    return new Static(new long[] {s.length}, Arrays.stream(s).asDoubleStream().toArray());
  }

  private Static slice(OnnxNode n) {
    Static data = stat(n, 0);
    if (data.shape().length != 1) {
      throw unsupported(n, "Slice of a tensor of rank " + data.shape().length);
    }
    long len = data.values().length;
    long start = clamp(stat(n, 1).longs()[0], len);
    long end = clamp(stat(n, 2).longs()[0], len);
    long step = hasInput(n, 4) ? stat(n, 4).longs()[0] : 1;
    if (step != 1) {
      throw unsupported(n, "Slice with step " + step);
    }
    double[] v = Arrays.copyOfRange(data.values(), (int) start, (int) Math.max(start, end));
    return new Static(new long[] {v.length}, v);
  }

  private static long clamp(long index, long len) {
    long i = index < 0 ? index + len : index;
    return Math.max(0, Math.min(len, i));
  }

  private Static gather(OnnxNode n) {
    Static data = stat(n, 0);
    Static idx = stat(n, 1);
    if (data.shape().length != 1 || n.intAttr("axis", 0) != 0) {
      throw unsupported(n, "Gather other than from a 1-D size vector");
    }
    long[] ii = idx.longs();
    double[] v = new double[ii.length];
    for (int i = 0; i < ii.length; i++) {
      v[i] = data.values()[(int) clamp(ii[i], data.values().length)];
    }
    return new Static(idx.shape(), v);
  }

  private Static unsqueeze(OnnxNode n) {
    Static s = stat(n, 0);
    return new Static(new long[] {s.values().length}, s.values());
  }

  private static long[] orDefault(long[] v, long... fallback) {
    return v == null || v.length == 0 ? fallback : v;
  }

  private static float[] toFloats(double[] d) {
    float[] f = new float[d.length];
    for (int i = 0; i < d.length; i++) {
      f[i] = (float) d[i];
    }
    return f;
  }
}
