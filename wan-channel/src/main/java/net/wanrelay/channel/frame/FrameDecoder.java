package net.wanrelay.channel.frame;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits the trunk byte stream into {@link Frame}s. Checks only what the header alone can tell
 * (known type, length within the limit, stream id 0 on connection frames); stream semantics are
 * checked by the connection handler. After the first violation all further input is discarded.
 */
public final class FrameDecoder extends ByteToMessageDecoder {
  private final int maxPayloadLength;
  private boolean failed;

  public FrameDecoder(int maxPayloadLength) {
    if (maxPayloadLength <= 0 || maxPayloadLength > Frame.MAX_WIRE_PAYLOAD) {
      throw new IllegalArgumentException("maxPayloadLength out of range: " + maxPayloadLength);
    }
    this.maxPayloadLength = maxPayloadLength;
    // DATA payloads leave as retained slices and stay referenced until the local socket wrote
    // them, so a merging cumulator would copy every read that ends inside a frame (most of them,
    // frames being larger than a socket read) into a fresh buffer. Composing reads copies nothing.
    setCumulator(COMPOSITE_CUMULATOR);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (failed) {
      in.skipBytes(in.readableBytes());
      return;
    }
    if (in.readableBytes() < Frame.HEADER_LENGTH) {
      return;
    }
    int idx = in.readerIndex();
    int code = in.getUnsignedByte(idx);
    int flags = in.getUnsignedByte(idx + 1);
    int streamId = in.getInt(idx + 2);
    int length = in.getUnsignedMedium(idx + 6);
    FrameType type = FrameType.of(code);
    if (type == null) {
      throw fail(in, "unknown_type", "frame type 0x" + Integer.toHexString(code));
    }
    if (length > maxPayloadLength) {
      throw fail(in, "frame_too_large", type + " length " + length + " > " + maxPayloadLength);
    }
    if (type.connectionLevel() && streamId != 0) {
      throw fail(in, "bad_stream_id", type + " on stream " + Integer.toUnsignedString(streamId));
    }
    if (!type.connectionLevel() && streamId == 0) {
      throw fail(in, "bad_stream_id", type + " on stream 0");
    }
    if (in.readableBytes() < Frame.HEADER_LENGTH + length) {
      return;
    }
    in.skipBytes(Frame.HEADER_LENGTH);
    ByteBuf payload = length == 0 ? Unpooled.EMPTY_BUFFER : in.readRetainedSlice(length);
    out.add(new Frame(type, flags, streamId, payload));
  }

  private ProtocolViolation fail(ByteBuf in, String reason, String detail) {
    failed = true;
    in.skipBytes(in.readableBytes());
    return new ProtocolViolation(reason, detail);
  }
}
