package net.wanrelay.channel.frame;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.nio.charset.StandardCharsets;

/** Builders and parsers for the small frame payloads (reasons, windows, pings, goaway). */
public final class Frames {
  private Frames() {}

  /** A reason payload: code byte then UTF-8 text (truncated to 200 bytes). */
  public static ByteBuf reason(ByteBufAllocator alloc, ErrorCode code, String message) {
    String m = message == null ? "" : message;
    if (m.length() > 200) {
      m = m.substring(0, 200);
    }
    ByteBuf b = alloc.buffer(1 + ByteBufUtil.utf8MaxBytes(m));
    b.writeByte(code.code());
    ByteBufUtil.writeUtf8(b, m);
    return b;
  }

  public static Frame openFail(ByteBufAllocator alloc, int streamId, ErrorCode code, String msg) {
    return new Frame(FrameType.OPEN_FAIL, 0, streamId, reason(alloc, code, msg));
  }

  public static Frame rst(ByteBufAllocator alloc, int streamId, ErrorCode code, String msg) {
    return new Frame(FrameType.RST, 0, streamId, reason(alloc, code, msg));
  }

  public static Frame window(ByteBufAllocator alloc, int streamId, int increment) {
    return new Frame(FrameType.WINDOW, 0, streamId, alloc.buffer(4).writeInt(increment));
  }

  /** WINDOW with the receiver's cumulative consumed offset (connections that resume). */
  public static Frame window(ByteBufAllocator alloc, int streamId, int increment, long consumedOffset) {
    return new Frame(FrameType.WINDOW, 0, streamId, alloc.buffer(12).writeInt(increment).writeLong(consumedOffset));
  }

  public static Frame goAway(ByteBufAllocator alloc, int lastStreamId, ErrorCode code, String msg) {
    ByteBuf reason = reason(alloc, code, msg);
    ByteBuf b = alloc.buffer(4 + reason.readableBytes());
    b.writeInt(lastStreamId).writeBytes(reason);
    reason.release();
    return new Frame(FrameType.GOAWAY, 0, 0, b);
  }

  /** PING / PONG payload: 8 opaque bytes echoed back, then the sender's active stream count. */
  public static Frame ping(ByteBufAllocator alloc, FrameType type, long opaque, int load) {
    return new Frame(type, 0, 0, alloc.buffer(12).writeLong(opaque).writeInt(load));
  }

  public static ErrorCode reasonCode(ByteBuf b) {
    return b.isReadable() ? ErrorCode.of(b.getUnsignedByte(b.readerIndex())) : ErrorCode.INTERNAL;
  }

  public static String reasonText(ByteBuf b) {
    if (b.readableBytes() <= 1) {
      return "";
    }
    return b.toString(b.readerIndex() + 1, b.readableBytes() - 1, StandardCharsets.UTF_8);
  }

  /** The acknowledged (consumed) offset of a 12-byte WINDOW, or -1 for a plain 4-byte one. */
  public static long windowAck(ByteBuf b) {
    if (b.readableBytes() != 12) {
      return -1;
    }
    long ack = b.getLong(b.readerIndex() + 4);
    if (ack < 0) {
      throw new ProtocolViolation("bad_window", "WINDOW ack offset " + Long.toUnsignedString(ack));
    }
    return ack;
  }

  public static int windowIncrement(ByteBuf b) {
    if (b.readableBytes() != 4 && b.readableBytes() != 12) {
      throw new ProtocolViolation("bad_window", "WINDOW payload length " + b.readableBytes());
    }
    int inc = b.getInt(b.readerIndex());
    if (inc <= 0) {
      throw new ProtocolViolation("bad_window", "WINDOW increment " + Integer.toUnsignedString(inc));
    }
    return inc;
  }
}
