package net.wanrelay.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import net.wanrelay.channel.frame.Frame;
import net.wanrelay.channel.frame.FrameDecoder;
import net.wanrelay.channel.frame.FrameType;

/** Byte-level helpers shared by the trunk fuzz tests: frame building, chunked delivery, output checks. */
final class TrunkWire {
  private TrunkWire() {}

  static void frame(ByteArrayOutputStream out, int type, int flags, int streamId, byte[] payload) {
    out.write(type);
    out.write(flags);
    out.write(streamId >>> 24);
    out.write(streamId >>> 16);
    out.write(streamId >>> 8);
    out.write(streamId);
    out.write(payload.length >>> 16);
    out.write(payload.length >>> 8);
    out.write(payload.length);
    out.writeBytes(payload);
  }

  /**
   * A peer's byte stream built from fuzz data: mostly well-formed frame headers (so the fuzzer gets
   * past the decoder into the handlers) with fuzzed payloads, plus raw byte runs.
   */
  static byte[] peerBytes(FuzzedDataProvider data, int maxFrames) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < maxFrames && data.remainingBytes() > 0; i++) {
      int op = data.consumeInt(0, 16);
      if (op >= FrameType.values().length) {
        out.writeBytes(data.consumeBytes(data.consumeInt(0, 32)));
        continue;
      }
      FrameType type = FrameType.values()[op];
      int streamId = type.connectionLevel() ? 0 : streamId(data);
      int flags = data.consumeInt(0, 3) == 0 ? data.consumeInt(0, 255) : 0;
      byte[] payload = switch (type) {
        case OPEN -> openPayload(data);
        case WINDOW -> data.consumeBoolean() ? int32(data.consumeInt(1, 1 << 20)) : data.consumeBytes(6);
        case PING, PONG -> data.consumeBytes(data.consumeInt(0, 14));
        default -> data.consumeBytes(data.consumeInt(0, 48));
      };
      frame(out, type.code(), flags, streamId, payload);
    }
    return out.toByteArray();
  }

  private static int streamId(FuzzedDataProvider data) {
    return switch (data.consumeInt(0, 3)) {
      case 0 -> data.consumeInt(1, 8);
      case 1 -> data.consumeInt();
      default -> data.consumeInt(1, 4);
    };
  }

  private static byte[] openPayload(FuzzedDataProvider data) {
    if (data.consumeInt(0, 7) == 0) {
      return data.consumeBytes(data.consumeInt(0, 40));
    }
    ByteArrayOutputStream p = new ByteArrayOutputStream();
    p.write(data.consumeBoolean() ? 6 : 17);
    switch (data.consumeInt(0, 3)) {
      case 0 -> {
        p.write(3);
        byte[] host = data.consumeBytes(data.consumeInt(0, 20));
        p.write(host.length);
        p.writeBytes(host);
      }
      case 1 -> {
        p.write(6);
        p.writeBytes(data.consumeBytes(16));
      }
      default -> {
        p.write(4);
        p.writeBytes(data.consumeBytes(4));
      }
    }
    p.writeBytes(int16(data.consumeInt(0, 65535)));
    p.write(0); // no source
    if (data.consumeBoolean()) {
      p.writeBytes(data.consumeBytes(data.consumeInt(0, 8))); // options (TLV), possibly broken
    }
    return p.toByteArray();
  }

  static byte[] int32(int v) {
    return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
  }

  static byte[] int16(int v) {
    return new byte[] {(byte) (v >>> 8), (byte) v};
  }

  /**
   * Writes {@code wire} inbound in chunks of fuzzed size. Returns the input buffers so the caller
   * can check they were all released. Nothing may escape: handlers deal with bad input themselves.
   */
  static List<ByteBuf> deliver(EmbeddedChannel ch, byte[] wire, long chunkSeed) {
    List<ByteBuf> inputs = new ArrayList<>();
    java.util.SplittableRandom r = new java.util.SplittableRandom(chunkSeed);
    int offset = 0;
    while (offset < wire.length && ch.isOpen()) {
      int n = Math.min(wire.length - offset, 1 + r.nextInt(256));
      ByteBuf chunk = Unpooled.copiedBuffer(wire, offset, n);
      inputs.add(chunk);
      offset += n;
      ch.writeInbound(chunk);
      ch.runPendingTasks();
    }
    return inputs;
  }

  /** Everything the handler wrote, decoded strictly: our own output must always be valid frames. */
  static List<FrameType> written(EmbeddedChannel ch) {
    ch.runPendingTasks();
    if (ch.outboundMessages().isEmpty()) {
      return new ArrayList<>(); // nothing to check: skip building a decoder channel (most inputs, after close)
    }
    EmbeddedChannel dec = new EmbeddedChannel(new FrameDecoder(Frame.MAX_WIRE_PAYLOAD));
    List<FrameType> types = new ArrayList<>();
    try {
      Object o;
      while ((o = ch.readOutbound()) != null) {
        try {
          dec.writeInbound(o);
        } catch (DecoderException e) {
          throw new AssertionError("the relay wrote an invalid frame", e);
        }
        Object f;
        while ((f = dec.readInbound()) != null) {
          types.add(((Frame) f).type());
          ReferenceCountUtil.release(f);
        }
      }
    } finally {
      dec.finishAndReleaseAll();
    }
    return types;
  }
}
