package net.wanrelay.channel.frame;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;

/**
 * Writes the 9-byte header in front of each frame's payload. Small payloads are copied behind
 * the header (one buffer); large ones are passed on as a second buffer so they are not copied.
 */
@Sharable
public final class FrameEncoder extends MessageToMessageEncoder<Frame> {
  private static final int COPY_THRESHOLD = 1024;

  public FrameEncoder() {
    super(Frame.class);
  }

  @Override
  protected void encode(ChannelHandlerContext ctx, Frame frame, List<Object> out) {
    ByteBuf payload = frame.content();
    int length = payload.readableBytes();
    if (length > Frame.MAX_WIRE_PAYLOAD) {
      throw new EncoderException("payload too large for one frame: " + length);
    }
    boolean copy = length <= COPY_THRESHOLD;
    ByteBuf header = ctx.alloc().buffer(Frame.HEADER_LENGTH + (copy ? length : 0));
    header.writeByte(frame.type().code());
    header.writeByte(frame.flags());
    header.writeInt(frame.streamId());
    header.writeMedium(length);
    if (copy) {
      header.writeBytes(payload, payload.readerIndex(), length);
      out.add(header);
    } else {
      out.add(header);
      out.add(payload.retain());
    }
  }
}
