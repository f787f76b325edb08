package net.wanrelay.channel.frame;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;

/**
 * One trunk frame: 9-byte header fields plus a reference-counted payload. Whoever receives a
 * Frame owns one reference and must release it (or pass it on).
 */
public final class Frame extends DefaultByteBufHolder {
  public static final int HEADER_LENGTH = 9;
  /** Largest length the 24-bit field can express. */
  public static final int MAX_WIRE_PAYLOAD = 0xFFFFFF;

  private final FrameType type;
  private final int flags;
  private final int streamId;

  public Frame(FrameType type, int flags, int streamId, ByteBuf payload) {
    super(payload);
    this.type = type;
    this.flags = flags & 0xFF;
    this.streamId = streamId;
  }

  public Frame(FrameType type, int streamId) {
    this(type, 0, streamId, Unpooled.EMPTY_BUFFER);
  }

  public FrameType type() {
    return type;
  }

  public int flags() {
    return flags;
  }

  public int streamId() {
    return streamId;
  }

  public ByteBuf payload() {
    return content();
  }

  @Override
  public Frame replace(ByteBuf content) {
    return new Frame(type, flags, streamId, content);
  }

  @Override
  public Frame retain() {
    super.retain();
    return this;
  }

  @Override
  public Frame touch(Object hint) {
    super.touch(hint);
    return this;
  }

  @Override
  public String toString() {
    return type + "(stream=" + Integer.toUnsignedString(streamId) + ", flags=" + flags + ", len="
        + content().readableBytes() + ")";
  }
}
