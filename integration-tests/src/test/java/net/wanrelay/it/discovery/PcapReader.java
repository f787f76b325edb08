package net.wanrelay.it.discovery;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads the classic pcap format that {@code tcpdump -w} writes (microsecond or nanosecond
 * timestamps, either byte order; link types Ethernet and raw IPv4) and returns each record's IPv4
 * packet. Strict: a truncated record or an unknown magic/link type is an error, not a silent skip.
 */
final class PcapReader {
  static final int LINKTYPE_ETHERNET = 1;
  static final int LINKTYPE_RAW = 101;
  private static final int ETHERTYPE_IPV4 = 0x0800;

  /** One captured frame's IPv4 packet (possibly cut at the snap length) and its capture time. */
  record Frame(long timestampMicros, byte[] ipPacket) {}

  private PcapReader() {}

  /** The IPv4 packets of a pcap file's records, in file order (non-IPv4 frames are left out). */
  static List<Frame> ipv4Frames(byte[] file) {
    if (file.length < 24) {
      throw new IllegalArgumentException("pcap: " + file.length + " bytes, the global header needs 24");
    }
    ByteBuffer b = ByteBuffer.wrap(file);
    int magic = b.order(ByteOrder.BIG_ENDIAN).getInt(0);
    boolean nanos;
    switch (magic) {
      case 0xa1b2c3d4 -> nanos = false;
      case 0xa1b23c4d -> nanos = true;
      case 0xd4c3b2a1 -> {
        nanos = false;
        b.order(ByteOrder.LITTLE_ENDIAN);
      }
      case 0x4d3cb2a1 -> {
        nanos = true;
        b.order(ByteOrder.LITTLE_ENDIAN);
      }
      default -> throw new IllegalArgumentException("pcap: unknown magic 0x" + Integer.toHexString(magic));
    }
    int linkType = b.getInt(20) & 0xffff;
    if (linkType != LINKTYPE_ETHERNET && linkType != LINKTYPE_RAW) {
      throw new IllegalArgumentException("pcap: link type " + linkType + " not supported (Ethernet or raw IP)");
    }
    List<Frame> out = new ArrayList<>();
    int pos = 24;
    while (pos < file.length) {
      if (pos + 16 > file.length) {
        throw new IllegalArgumentException("pcap: record header truncated at offset " + pos);
      }
      long sec = b.getInt(pos) & 0xffffffffL;
      long frac = b.getInt(pos + 4) & 0xffffffffL;
      int caplen = b.getInt(pos + 8);
      if (caplen < 0 || pos + 16 + caplen > file.length) {
        throw new IllegalArgumentException("pcap: record at offset " + pos + " claims " + caplen + " bytes, "
            + (file.length - pos - 16) + " left");
      }
      int data = pos + 16;
      pos = data + caplen;
      int ip = data;
      if (linkType == LINKTYPE_ETHERNET) {
        if (caplen < 14 || ((file[data + 12] & 0xff) << 8 | (file[data + 13] & 0xff)) != ETHERTYPE_IPV4) {
          continue;
        }
        ip = data + 14;
      }
      if (ip >= pos || (file[ip] >> 4 & 0xf) != 4) {
        continue;
      }
      out.add(new Frame(sec * 1_000_000 + (nanos ? frac / 1000 : frac), Arrays.copyOfRange(file, ip, pos)));
    }
    return out;
  }
}
