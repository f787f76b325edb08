package net.wanrelay.channel.frame;

import io.netty.buffer.ByteBuf;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;

/**
 * Socket address encoding used in OPEN: family byte (0 none, 4 IPv4, 6 IPv6, 3 host name),
 * address bytes (host name: length byte + ASCII), then a 16-bit port.
 */
public final class WireAddress {
  private WireAddress() {}

  public static void write(ByteBuf b, InetSocketAddress a) {
    if (a == null) {
      b.writeByte(0);
      return;
    }
    if (a.isUnresolved()) {
      byte[] host = a.getHostString().getBytes(StandardCharsets.US_ASCII);
      if (host.length == 0 || host.length > 255) {
        throw new IllegalArgumentException("host name length " + host.length);
      }
      b.writeByte(3).writeByte(host.length).writeBytes(host);
    } else {
      byte[] raw = a.getAddress().getAddress();
      b.writeByte(raw.length == 4 ? 4 : 6).writeBytes(raw);
    }
    b.writeShort(a.getPort());
  }

  /** Reads one address; returns null for family 0. */
  public static InetSocketAddress read(ByteBuf b) {
    int family = b.readUnsignedByte();
    try {
      switch (family) {
        case 0:
          return null;
        case 4:
        case 6: {
          byte[] raw = new byte[family == 4 ? 4 : 16];
          b.readBytes(raw);
          return new InetSocketAddress(InetAddress.getByAddress(raw), b.readUnsignedShort());
        }
        case 3: {
          int len = b.readUnsignedByte();
          if (len == 0) {
            throw new ProtocolViolation("bad_open", "empty host name");
          }
          String host = b.readCharSequence(len, StandardCharsets.US_ASCII).toString();
          return InetSocketAddress.createUnresolved(host, b.readUnsignedShort());
        }
        default:
          throw new ProtocolViolation("bad_open", "address family " + family);
      }
    } catch (UnknownHostException e) {
      throw new ProtocolViolation("bad_open", "bad address bytes");
    }
  }
}
