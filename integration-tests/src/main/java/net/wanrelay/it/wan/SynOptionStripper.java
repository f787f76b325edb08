package net.wanrelay.it.wan;

/**
 * Imitates a middlebox that scrubs TCP options it does not know: in IPv4 TCP segments with SYN set
 * (SYN and SYN-ACK), every option other than EOL, NOP, MSS, window scale, SACK-permitted and
 * timestamps is overwritten with NOPs, and the TCP checksum is recomputed. Packets that are not
 * IPv4/TCP/SYN, fragments, and packets with malformed option lists are left untouched.
 */
public final class SynOptionStripper {
  private SynOptionStripper() {}

  /**
   * True when {@code packet[0..length)} is an IPv4 TCP segment with SYN set that carries an option
   * the stripper would scrub (for the emulator's drop mode: a middlebox that drops such SYNs).
   */
  public static boolean hasUnknownOption(byte[] packet, int length) {
    return scan(packet, length, false) > 0;
  }

  /** Strips {@code packet[0..length)} in place; returns the number of options replaced. */
  public static int strip(byte[] packet, int length) {
    return scan(packet, length, true);
  }

  /** Counts the unknown options of a SYN / SYN-ACK, overwriting them with NOPs when {@code rewrite}. */
  private static int scan(byte[] packet, int length, boolean rewrite) {
    if (length < 20 || (packet[0] >> 4 & 0xf) != 4 || (packet[9] & 0xff) != 6) {
      return 0;
    }
    int ihl = (packet[0] & 0xf) * 4;
    int total = u16(packet, 2);
    boolean fragment = (u16(packet, 6) & 0x3fff) != 0; // MF set or non-zero offset
    if (ihl < 20 || total > length || total < ihl + 20 || fragment) {
      return 0;
    }
    int tcp = ihl;
    int dataOffset = (packet[tcp + 12] >> 4 & 0xf) * 4;
    boolean syn = (packet[tcp + 13] & 0x02) != 0;
    if (!syn || dataOffset < 20 || tcp + dataOffset > total) {
      return 0;
    }
    int end = tcp + dataOffset;
    // First pass validates the option list, so a malformed one is never half-rewritten.
    int i = tcp + 20;
    while (i < end) {
      int kind = packet[i] & 0xff;
      if (kind == 0) {
        break;
      }
      if (kind == 1) {
        i++;
        continue;
      }
      if (i + 1 >= end) {
        return 0;
      }
      int len = packet[i + 1] & 0xff;
      if (len < 2 || i + len > end) {
        return 0;
      }
      i += len;
    }
    int replaced = 0;
    i = tcp + 20;
    while (i < end) {
      int kind = packet[i] & 0xff;
      if (kind == 0) {
        break;
      }
      if (kind == 1) {
        i++;
        continue;
      }
      int len = packet[i + 1] & 0xff;
      if (!(kind == 2 || kind == 3 || kind == 4 || kind == 8)) {
        if (rewrite) {
          for (int k = i; k < i + len; k++) {
            packet[k] = 1;
          }
        }
        replaced++;
      }
      i += len;
    }
    if (replaced > 0 && rewrite) {
      packet[tcp + 16] = 0;
      packet[tcp + 17] = 0;
      int sum = tcpChecksum(packet, ihl, total);
      packet[tcp + 16] = (byte) (sum >> 8);
      packet[tcp + 17] = (byte) sum;
    }
    return replaced;
  }

  /** The TCP checksum (pseudo-header included) of the segment at {@code ihl..total}, field zeroed. */
  public static int tcpChecksum(byte[] p, int ihl, int total) {
    long sum = 0;
    for (int k = 12; k < 20; k += 2) {
      sum += u16(p, k); // source and destination address
    }
    sum += 6;
    sum += total - ihl;
    for (int k = ihl; k + 1 < total; k += 2) {
      sum += u16(p, k);
    }
    if (((total - ihl) & 1) != 0) {
      sum += (p[total - 1] & 0xff) << 8;
    }
    while ((sum >> 16) != 0) {
      sum = (sum & 0xffff) + (sum >> 16);
    }
    return (int) (~sum & 0xffff);
  }

  static int u16(byte[] p, int off) {
    return (p[off] & 0xff) << 8 | (p[off + 1] & 0xff);
  }
}
