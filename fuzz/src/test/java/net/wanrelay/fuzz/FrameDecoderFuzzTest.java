package net.wanrelay.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.wanrelay.channel.frame.Frame;
import net.wanrelay.channel.frame.FrameDecoder;
import net.wanrelay.channel.frame.FrameType;
import net.wanrelay.channel.frame.ProtocolViolation;

/**
 * Trunk frame decoder on arbitrary bytes, delivered in arbitrary chunk sizes. Oracle: the frames
 * that come out, written back as header + payload, are exactly the prefix of the input the decoder
 * consumed; what is left is either an incomplete frame or a header the spec forbids, and then (and
 * only then) the decoder fails with a {@link ProtocolViolation} and ignores all later bytes. Every
 * input buffer ends with reference count 0 (no payload slice leaked).
 */
class FrameDecoderFuzzTest {

  @FuzzTest
  void decodesExactlyTheValidPrefix(FuzzedDataProvider data) {
    BufferLedger.Mark ledger = BufferLedger.mark();
    int maxPayload = data.consumeInt(1, 1 << 17);
    long chunkSeed = data.consumeLong();
    byte[] wire = data.consumeRemainingAsBytes();

    EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(maxPayload));
    List<ByteBuf> inputs = new ArrayList<>();
    ByteArrayOutputStream rewritten = new ByteArrayOutputStream();
    ProtocolViolation violation = null;
    SplittableRandom chunks = new SplittableRandom(chunkSeed);
    int offset = 0;
    try {
      while (offset < wire.length) {
        int n = Math.min(wire.length - offset, 1 + chunks.nextInt(1 + Math.min(wire.length, 300)));
        ByteBuf chunk = Unpooled.copiedBuffer(wire, offset, n);
        inputs.add(chunk);
        offset += n;
        DecoderException thrown = null;
        try {
          ch.writeInbound(chunk);
        } catch (DecoderException e) {
          thrown = e;
        }
        Object o;
        while ((o = ch.readInbound()) != null) {
          Frame f = (Frame) o;
          try {
            assertThat(violation).as("frame after a violation").isNull();
            checkFrame(f, maxPayload);
            rewritten.writeBytes(header(f));
            byte[] p = new byte[f.payload().readableBytes()];
            f.payload().getBytes(f.payload().readerIndex(), p);
            rewritten.writeBytes(p);
          } finally {
            f.release();
          }
        }
        // Frames of this chunk that came before the bad header are fine; none may follow it.
        if (thrown != null) {
          assertThat(thrown).isInstanceOf(ProtocolViolation.class);
          assertThat(violation).as("a second violation after the first").isNull();
          violation = (ProtocolViolation) thrown;
        }
      }
    } finally {
      ch.finishAndReleaseAll();
    }

    byte[] consumed = rewritten.toByteArray();
    assertThat(consumed.length).isLessThanOrEqualTo(wire.length);
    for (int i = 0; i < consumed.length; i++) {
      if (consumed[i] != wire[i]) {
        throw new AssertionError("decoded frames differ from the input at byte " + i);
      }
    }
    int rest = wire.length - consumed.length;
    String expected = rest < Frame.HEADER_LENGTH ? null : headerProblem(wire, consumed.length, maxPayload);
    if (expected == null) {
      assertThat(violation).as("violation on a valid or incomplete tail").isNull();
      if (rest >= Frame.HEADER_LENGTH) {
        int len = medium(wire, consumed.length + 6);
        assertThat(rest).as("a complete valid frame was left undecoded").isLessThan(Frame.HEADER_LENGTH + len);
      }
    } else {
      assertThat(violation).as("no violation for a bad header (" + expected + ")").isNotNull();
      assertThat(violation.reason()).isEqualTo(expected);
    }
    for (ByteBuf b : inputs) {
      assertThat(b.refCnt()).as("input buffer still referenced (leaked frame payload)").isZero();
    }
    ledger.assertBalanced("decoding and closing");
  }

  private static void checkFrame(Frame f, int maxPayload) {
    assertThat(f.payload().readableBytes()).isLessThanOrEqualTo(maxPayload);
    assertThat(f.type().connectionLevel() == (f.streamId() == 0)).isTrue();
  }

  private static byte[] header(Frame f) {
    int len = f.payload().readableBytes();
    int id = f.streamId();
    return new byte[] {(byte) f.type().code(), (byte) f.flags(), (byte) (id >>> 24), (byte) (id >>> 16),
        (byte) (id >>> 8), (byte) id, (byte) (len >>> 16), (byte) (len >>> 8), (byte) len};
  }

  /** The reason the spec gives for refusing the header at {@code at}, or null when it is fine. */
  private static String headerProblem(byte[] b, int at, int maxPayload) {
    FrameType type = FrameType.of(b[at] & 0xff);
    if (type == null) {
      return "unknown_type";
    }
    if (medium(b, at + 6) > maxPayload) {
      return "frame_too_large";
    }
    int id = ((b[at + 2] & 0xff) << 24) | ((b[at + 3] & 0xff) << 16) | ((b[at + 4] & 0xff) << 8) | (b[at + 5] & 0xff);
    return type.connectionLevel() == (id == 0) ? null : "bad_stream_id";
  }

  private static int medium(byte[] b, int at) {
    return ((b[at] & 0xff) << 16) | ((b[at + 1] & 0xff) << 8) | (b[at + 2] & 0xff);
  }
}
