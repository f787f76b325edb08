package net.wanrelay.discovery.packet;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A read-only view of one IPv4 packet carrying a TCP segment, as NFQUEUE hands it over or as
 * TCP_SAVED_SYN returns it. Only {@link #parse} and {@link #parseHeaders} create one, and they
 * check every length first, so the accessors never read out of bounds.
 */
public final class Ipv4TcpPacket {
  public static final int FIN = 0x01;
  public static final int SYN = 0x02;
  public static final int RST = 0x04;
  public static final int ACK = 0x10;

  private final byte[] buf; // exactly the packet's bytes (or headers, for a saved SYN)
  private final int ipHeaderLength;
  private final int tcpHeaderLength;
  private final boolean headersOnly;

  private Ipv4TcpPacket(byte[] buf, int ipHeaderLength, int tcpHeaderLength, boolean headersOnly) {
    this.buf = buf;
    this.ipHeaderLength = ipHeaderLength;
    this.tcpHeaderLength = tcpHeaderLength;
    this.headersOnly = headersOnly;
  }

  /** Parses a whole packet; bytes past the IP total length (padding) are dropped. */
  public static ParseResult<Ipv4TcpPacket> parse(byte[] data, int offset, int length) {
    return parse(data, offset, length, false);
  }

  public static ParseResult<Ipv4TcpPacket> parse(byte[] data) {
    return parse(data, 0, data.length, false);
  }

  /** Parses a packet from the buffer's position to its limit, without moving the position. */
  public static ParseResult<Ipv4TcpPacket> parse(ByteBuffer buffer) {
    byte[] copy = new byte[buffer.remaining()];
    buffer.duplicate().get(copy);
    return parse(copy, 0, copy.length, false);
  }

  /**
   * Parses only the IP and TCP headers, as TCP_SAVED_SYN returns them: the buffer may be longer
   * (the kernel leaves it at the requested size) or shorter than the IP total length (a SYN with
   * data). The lengths come from the headers, never from the buffer.
   */
  public static ParseResult<Ipv4TcpPacket> parseHeaders(byte[] data, int offset, int length) {
    return parse(data, offset, length, true);
  }

  private static ParseResult<Ipv4TcpPacket> parse(byte[] data, int offset, int length, boolean headersOnly) {
    if (data == null || offset < 0 || length < 0 || offset + length > data.length) {
      return ParseResult.error("buffer bounds invalid");
    }
    if (length < 20) {
      return ParseResult.error("truncated: " + length + " bytes, an IPv4 header needs 20");
    }
    int version = (data[offset] & 0xf0) >>> 4;
    if (version != 4) {
      return ParseResult.error("not IPv4 (version " + version + ")");
    }
    int ihl = (data[offset] & 0x0f) * 4;
    if (ihl < 20) {
      return ParseResult.error("IPv4 header length " + ihl + " below 20");
    }
    int totalLength = u16(data, offset + 2);
    int protocol = data[offset + 9] & 0xff;
    if (protocol != 6) {
      return ParseResult.error("not TCP (protocol " + protocol + ")");
    }
    int fragment = u16(data, offset + 6);
    if ((fragment & 0x3fff) != 0) {
      return ParseResult.error("IPv4 fragment (flags/offset 0x" + Integer.toHexString(fragment) + ")");
    }
    if (totalLength < ihl + 20) {
      return ParseResult.error("IPv4 total length " + totalLength + " too small for headers");
    }
    if (length < ihl + 20) {
      return ParseResult.error("truncated: " + length + " bytes, headers need at least " + (ihl + 20));
    }
    int doff = ((data[offset + ihl + 12] & 0xf0) >>> 4) * 4;
    if (doff < 20) {
      return ParseResult.error("TCP data offset " + doff + " below 20");
    }
    int headers = ihl + doff;
    if (headers > totalLength) {
      return ParseResult.error("TCP header (" + doff + ") runs past IPv4 total length " + totalLength);
    }
    int keep;
    if (headersOnly) {
      if (length < headers) {
        return ParseResult.error("truncated: " + length + " bytes, headers need " + headers);
      }
      keep = headers;
    } else {
      if (length < totalLength) {
        return ParseResult.error("truncated: " + length + " bytes, IPv4 total length says " + totalLength);
      }
      keep = totalLength;
    }
    byte[] copy = Arrays.copyOfRange(data, offset, offset + keep);
    Ipv4TcpPacket packet = new Ipv4TcpPacket(copy, ihl, doff, headersOnly);
    ParseResult<TcpOptions> options = packet.options();
    if (!options.isOk()) {
      return ParseResult.error("bad TCP options: " + options.error());
    }
    return ParseResult.ok(packet);
  }

  static int u16(byte[] b, int i) {
    return ((b[i] & 0xff) << 8) | (b[i + 1] & 0xff);
  }

  static void put16(byte[] b, int i, int v) {
    b[i] = (byte) (v >>> 8);
    b[i + 1] = (byte) v;
  }

  /** A copy of the packet's bytes (headers only for a saved SYN). */
  public byte[] bytes() {
    return buf.clone();
  }

  public int length() {
    return buf.length;
  }

  public boolean headersOnly() {
    return headersOnly;
  }

  public int ipHeaderLength() {
    return ipHeaderLength;
  }

  public int tcpHeaderLength() {
    return tcpHeaderLength;
  }

  public int totalLength() {
    return u16(buf, 2);
  }

  public Inet4Address source() {
    return addr(12);
  }

  public Inet4Address destination() {
    return addr(16);
  }

  public int sourcePort() {
    return u16(buf, ipHeaderLength);
  }

  public int destinationPort() {
    return u16(buf, ipHeaderLength + 2);
  }

  public InetSocketAddress sourceSocket() {
    return new InetSocketAddress(source(), sourcePort());
  }

  public InetSocketAddress destinationSocket() {
    return new InetSocketAddress(destination(), destinationPort());
  }

  /** TCP flag bits (FIN 0x01 ... CWR 0x80). */
  public int tcpFlags() {
    return buf[ipHeaderLength + 13] & 0xff;
  }

  public boolean isSyn() {
    return (tcpFlags() & (SYN | ACK)) == SYN;
  }

  public boolean isSynAck() {
    return (tcpFlags() & (SYN | ACK)) == (SYN | ACK);
  }

  public int ipChecksum() {
    return u16(buf, 10);
  }

  public int tcpChecksum() {
    return u16(buf, ipHeaderLength + 16);
  }

  /** True when both checksums verify (the TCP one only for a whole packet). */
  public boolean checksumsValid() {
    boolean ip = Checksums.ipv4Header(buf, 0, ipHeaderLength) == 0;
    if (headersOnly) {
      return ip;
    }
    return ip && Checksums.tcp(buf, 0, ipHeaderLength, buf.length - ipHeaderLength) == 0;
  }

  public ParseResult<TcpOptions> options() {
    return TcpOptions.parse(buf, ipHeaderLength + 20, tcpHeaderLength - 20);
  }

  private Inet4Address addr(int at) {
    try {
      return (Inet4Address) InetAddress.getByAddress(Arrays.copyOfRange(buf, at, at + 4));
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e); // four bytes are always a valid address
    }
  }

  /** Raw access for the rewriter in this package. */
  byte[] raw() {
    return buf;
  }

  @Override
  public String toString() {
    return "Ipv4TcpPacket[" + sourceSocket() + " -> " + destinationSocket() + " flags=0x"
        + Integer.toHexString(tcpFlags()) + " len=" + buf.length + "]";
  }
}
