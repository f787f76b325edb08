package net.wanrelay.discovery.packet;

/** The Internet checksum (RFC 1071) over IPv4 headers and TCP segments with the pseudo-header. */
public final class Checksums {
  private Checksums() {}

  /** One's-complement sum of 16-bit big-endian words, not yet folded or inverted. */
  static long sum(byte[] buf, int offset, int length, long initial) {
    long sum = initial;
    int i = offset;
    int end = offset + length;
    while (i + 1 < end) {
      sum += ((buf[i] & 0xff) << 8) | (buf[i + 1] & 0xff);
      i += 2;
    }
    if (i < end) {
      sum += (buf[i] & 0xff) << 8; // odd trailing byte is padded with zero
    }
    return sum;
  }

  static int fold(long sum) {
    while ((sum >>> 16) != 0) {
      sum = (sum & 0xffff) + (sum >>> 16);
    }
    return (int) (~sum & 0xffff);
  }

  /** Checksum of an IPv4 header whose checksum field (bytes 10..11) is treated as it is now. */
  public static int ipv4Header(byte[] packet, int offset, int headerLength) {
    return fold(sum(packet, offset, headerLength, 0));
  }

  /**
   * TCP checksum over the pseudo-header (source, destination, protocol 6, TCP length) and the
   * segment at {@code tcpOffset} of {@code tcpLength} bytes, as the segment's checksum field is now.
   */
  public static int tcp(byte[] packet, int ipOffset, int tcpOffset, int tcpLength) {
    long s = sum(packet, ipOffset + 12, 8, 0); // source and destination addresses
    s += 6;
    s += tcpLength;
    return fold(sum(packet, tcpOffset, tcpLength, s));
  }
}
