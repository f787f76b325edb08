package net.wanrelay.channel.frame;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetSocketAddress;

/**
 * OPEN payload: protocol, original destination, original source (may be null), and TLV
 * options. Known options: {@link #OPT_COMPRESSION} (1 byte codec id), {@link #OPT_RACE},
 * {@link #OPT_DEDUP}. Unknown option types below 128 are skipped; 128 and above are critical and
 * make the OPEN fail.
 */
public record OpenRequest(StreamProtocol protocol, InetSocketAddress destination,
    InetSocketAddress source, int compressionCodec, boolean dedup, boolean race) {
  public static final int OPT_COMPRESSION = 1;
  /**
   * Empty, not critical: the CP sent this OPEN to several SPs at once and keeps the first
   * OPEN_ACK. An SP at its session limit stays silent instead of answering OPEN_FAIL busy (an
   * older SP skips the option and answers as usual).
   */
  public static final int OPT_RACE = 2;
  /** Critical, empty: DATA of this stream carries dedup tokens both ways (docs/PROTOCOL.md 7.1). */
  public static final int OPT_DEDUP = 128;

  public OpenRequest(StreamProtocol protocol, InetSocketAddress destination, InetSocketAddress source,
      int compressionCodec) {
    this(protocol, destination, source, compressionCodec, false, false);
  }

  public OpenRequest(StreamProtocol protocol, InetSocketAddress destination, InetSocketAddress source,
      int compressionCodec, boolean dedup) {
    this(protocol, destination, source, compressionCodec, dedup, false);
  }

  /** The same request marked as one of several raced OPENs. */
  public OpenRequest raced() {
    return new OpenRequest(protocol, destination, source, compressionCodec, dedup, true);
  }

  public OpenRequest {
    if (protocol == null || destination == null) {
      throw new IllegalArgumentException("protocol and destination are required");
    }
  }

  public OpenRequest withDestination(InetSocketAddress dst) {
    return new OpenRequest(protocol, dst, source, compressionCodec, dedup, race);
  }

  public ByteBuf encode(ByteBufAllocator alloc) {
    ByteBuf b = alloc.buffer(64);
    b.writeByte(protocol.code());
    WireAddress.write(b, destination);
    WireAddress.write(b, source);
    if (compressionCodec != 0) {
      b.writeByte(OPT_COMPRESSION).writeByte(1).writeByte(compressionCodec);
    }
    if (race) {
      b.writeByte(OPT_RACE).writeByte(0);
    }
    if (dedup) {
      b.writeByte(OPT_DEDUP).writeByte(0);
    }
    return b;
  }

  public static OpenRequest decode(ByteBuf b) {
    try {
      StreamProtocol protocol = StreamProtocol.of(b.readUnsignedByte());
      InetSocketAddress dst = WireAddress.read(b);
      if (dst == null) {
        throw new ProtocolViolation("bad_open", "missing destination");
      }
      InetSocketAddress src = WireAddress.read(b);
      int codec = 0;
      boolean dedup = false;
      boolean race = false;
      while (b.isReadable()) {
        int type = b.readUnsignedByte();
        int len = b.readUnsignedByte();
        ByteBuf value = b.readSlice(len);
        if (type == OPT_COMPRESSION && len == 1) {
          codec = value.getUnsignedByte(value.readerIndex());
        } else if (type == OPT_RACE && len == 0) {
          race = true;
        } else if (type == OPT_DEDUP && len == 0 && protocol == StreamProtocol.TCP) {
          dedup = true;
        } else if (type >= 128) {
          throw new ProtocolViolation("bad_open", "unknown critical option " + type);
        }
      }
      return new OpenRequest(protocol, dst, src, codec, dedup, race);
    } catch (IndexOutOfBoundsException e) {
      throw new ProtocolViolation("bad_open", "truncated OPEN");
    }
  }
}
