package io.unimatte.inference;

import io.unimatte.batching.ItemRef;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Event-bus codecs of {@link InferenceRequest} and {@link InferenceReply}. Inside one JVM the
 * object travels by reference (tensors are megabytes); between cluster nodes it is a compact
 * binary frame: a version byte, the scalar fields (with the input's width and height), then the
 * float32 tensor as raw little-endian bytes (length-prefixed).
 */
public final class InferenceCodecs {
  /** Frame version: a node refuses frames of another version instead of misreading them. */
  private static final byte VERSION = 1;

  private InferenceCodecs() {
  }

  /** Registers both codecs as the types' defaults; idempotent per event bus. */
  public static void register(EventBus bus) {
    try {
      bus.registerDefaultCodec(InferenceRequest.class, new RequestCodec());
      bus.registerDefaultCodec(InferenceReply.class, new ReplyCodec());
    } catch (IllegalStateException alreadyRegistered) {
      // a second deployment in the same Vert.x instance: codecs are already there
    }
  }

  /** {@link InferenceRequest} on the wire. */
  public static final class RequestCodec extends ReferenceCodec<InferenceRequest> {
    public RequestCodec() {
      super("unimatte.inference.request");
    }

    @Override
    public void encodeToWire(Buffer b, InferenceRequest r) {
      b.appendByte(VERSION);
      putString(b, r.id());
      putString(b, r.ref().jobId());
      b.appendInt(r.ref().index());
      putString(b, r.model());
      b.appendInt(r.input().width()).appendInt(r.input().height());
      putFloats(b, r.input().pixels());
    }

    @Override
    public InferenceRequest decodeFromWire(int pos, Buffer b) {
      Reader in = new Reader(b, pos);
      String id = in.string();
      String jobId = in.string();
      int index = in.integer();
      String model = in.string();
      int width = in.integer();
      int height = in.integer();
      return new InferenceRequest(id, new ItemRef(jobId, index), model, new ModelInput(in.floats(), width, height));
    }
  }

  /** {@link InferenceReply} on the wire. */
  public static final class ReplyCodec extends ReferenceCodec<InferenceReply> {
    public ReplyCodec() {
      super("unimatte.inference.reply");
    }

    @Override
    public void encodeToWire(Buffer b, InferenceReply r) {
      b.appendByte(VERSION);
      putString(b, r.errorCode());
      putString(b, r.errorMessage());
      b.appendLong(r.retryAfterSecs());
      b.appendInt(r.batchSize());
      b.appendLong(r.queueMillis());
      b.appendLong(r.inferMillis());
      putFloats(b, r.alpha());
    }

    @Override
    public InferenceReply decodeFromWire(int pos, Buffer b) {
      Reader in = new Reader(b, pos);
      String code = in.string();
      String message = in.string();
      long retryAfter = in.longValue();
      int batchSize = in.integer();
      long queueMillis = in.longValue();
      long inferMillis = in.longValue();
      return new InferenceReply(in.floats(), code, message, retryAfter, batchSize, queueMillis, inferMillis);
    }
  }

  private static void putString(Buffer b, String s) {
    if (s == null) {
      b.appendInt(-1);
      return;
    }
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    b.appendInt(bytes.length).appendBytes(bytes);
  }

  private static void putFloats(Buffer b, float[] v) {
    if (v == null) {
      b.appendInt(-1);
      return;
    }
    ByteBuffer bytes = ByteBuffer.allocate(v.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(v);
    b.appendInt(v.length).appendBytes(bytes.array());
  }

  /**
   * Sequential reader over one frame. Every length is checked against the bytes left in the frame
   * before anything is allocated: a corrupt or hostile frame that claims two billion floats is
   * refused ({@link IllegalArgumentException}), never an 8 GB allocation.
   */
  private static final class Reader {
    private final Buffer b;
    private int pos;

    Reader(Buffer b, int pos) {
      this.b = b;
      this.pos = pos;
      need(1, "version");
      byte version = b.getByte(this.pos++);
      if (version != VERSION) {
        throw new IllegalStateException("inference frame version " + version + " is not " + VERSION
            + ": run the same Unimatte version on every node");
      }
    }

    /** Fails unless {@code bytes} more are in the frame. */
    private void need(long bytes, String what) {
      long left = (long) b.length() - pos;
      if (bytes < 0 || bytes > left) {
        throw new IllegalArgumentException("malformed inference frame: " + what + " needs " + bytes + " bytes, "
            + Math.max(0, left) + " left");
      }
    }

    int integer() {
      need(Integer.BYTES, "an int");
      int v = b.getInt(pos);
      pos += Integer.BYTES;
      return v;
    }

    long longValue() {
      need(Long.BYTES, "a long");
      long v = b.getLong(pos);
      pos += Long.BYTES;
      return v;
    }

    String string() {
      int n = integer();
      if (n == -1) {
        return null;
      }
      need(n, "a string");
      String s = b.getString(pos, pos + n, StandardCharsets.UTF_8.name());
      pos += n;
      return s;
    }

    float[] floats() {
      int n = integer();
      if (n == -1) {
        return null;
      }
      need(n < 0 ? -1 : (long) n * Float.BYTES, "a tensor of " + n + " floats");
      float[] v = new float[n];
      ByteBuffer.wrap(b.getBytes(pos, pos + n * Float.BYTES)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
      pos += n * Float.BYTES;
      return v;
    }
  }
}
