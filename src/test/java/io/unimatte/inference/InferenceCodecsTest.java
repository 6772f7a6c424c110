package io.unimatte.inference;

import io.unimatte.batching.ItemRef;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Inference messages survive the trip between cluster nodes bit for bit, and stay by reference locally. */
class InferenceCodecsTest {
  private static final int PREFIX = 7; // bytes the event bus writes before a body: decoding starts at pos

  @Test
  void requestCrossesTheWireUnchanged() {
    float[] input = {0f, -0.5f, 1e-7f, Float.MAX_VALUE, Float.NaN, 0.49609375f};
    InferenceRequest sent = new InferenceRequest("attempt-1", new ItemRef("job-é", 41), "isnet",
        new ModelInput(input, 2, 1));
    InferenceCodecs.RequestCodec codec = new InferenceCodecs.RequestCodec();
    Buffer wire = Buffer.buffer(new byte[PREFIX]);
    codec.encodeToWire(wire, sent);
    assertEquals(PREFIX + 1 + (4 + 9) + (4 + 6) + 4 + (4 + 5) + 4 + 4 + (4 + 4 * input.length), wire.length(),
        "header plus the raw float32 tensor, nothing more");

    InferenceRequest got = codec.decodeFromWire(PREFIX, wire);
    assertEquals("attempt-1", got.id());
    assertEquals(new ItemRef("job-é", 41), got.ref());
    assertEquals("isnet", got.model());
    assertArrayEquals(input, got.input().pixels());
    assertEquals(2, got.input().width());
    assertEquals(1, got.input().height());
    assertSame(sent, codec.transform(sent), "inside one JVM the tensor is not copied");
  }

  @Test
  void repliesWithAlphaOrErrorCrossTheWire() {
    InferenceCodecs.ReplyCodec codec = new InferenceCodecs.ReplyCodec();
    InferenceReply ok = InferenceReply.ok(new float[] {0.25f, 1f}, 3, 12, 340);
    Buffer wire = Buffer.buffer();
    codec.encodeToWire(wire, ok);
    InferenceReply got = codec.decodeFromWire(0, wire);
    assertArrayEquals(ok.alpha(), got.alpha());
    assertEquals(3, got.batchSize());
    assertEquals(12, got.queueMillis());
    assertEquals(340, got.inferMillis());
    assertNull(got.errorCode());

    Buffer err = Buffer.buffer();
    codec.encodeToWire(err, InferenceReply.failure("queue_full", "the inference queue is full", 2));
    InferenceReply failed = codec.decodeFromWire(0, err);
    assertNull(failed.alpha());
    assertEquals("queue_full", failed.errorCode());
    assertEquals("the inference queue is full", failed.errorMessage());
    assertEquals(2, failed.retryAfterSecs());
  }

  @Test
  void lengthsAreCheckedBeforeAnythingIsAllocated() {
    InferenceCodecs.RequestCodec requests = new InferenceCodecs.RequestCodec();
    InferenceCodecs.ReplyCodec replies = new InferenceCodecs.ReplyCodec();
    byte version = 1;
    // a reply that claims 2^30 floats (4 GiB) in a 30-byte frame, or a negative count
    for (int floats : new int[] {1 << 30, Integer.MAX_VALUE, -2, Integer.MIN_VALUE, 3}) {
      Buffer reply = Buffer.buffer().appendByte(version).appendInt(-1).appendInt(-1).appendLong(0).appendInt(1)
          .appendLong(0).appendLong(0).appendInt(floats).appendFloat(0.5f);
      assertThrows(IllegalArgumentException.class, () -> replies.decodeFromWire(0, reply), "floats=" + floats);
    }
    // a request whose first string claims 2 GiB, or -7 bytes
    for (int chars : new int[] {Integer.MAX_VALUE, -7, 100}) {
      Buffer request = Buffer.buffer(new byte[PREFIX]).appendByte(version).appendInt(chars).appendBytes(new byte[10]);
      assertThrows(IllegalArgumentException.class, () -> requests.decodeFromWire(PREFIX, request), "chars=" + chars);
    }
    // cut short anywhere: refused, never read past the frame
    Buffer whole = Buffer.buffer();
    requests.encodeToWire(whole,
        new InferenceRequest("r", new ItemRef("j", 0), "m", new ModelInput(new float[12], 2, 2)));
    for (int cut = 0; cut < whole.length(); cut++) {
      Buffer part = whole.getBuffer(0, cut);
      assertThrows(IllegalArgumentException.class, () -> requests.decodeFromWire(0, part), "cut at " + cut);
    }
  }

  @Test
  void aFrameOfAnotherVersionIsRefused() {
    Buffer wire = Buffer.buffer().appendByte((byte) 99).appendInt(-1);
    assertThrows(IllegalStateException.class, () -> new InferenceCodecs.ReplyCodec().decodeFromWire(0, wire));
  }
}
