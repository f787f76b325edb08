package net.wanrelay.discovery.packet;

import java.nio.ByteBuffer;
import java.util.HexFormat;

/** Builds IPv4 TCP packets by hand and checks them with a checksum written apart from Checksums. */
public final class TestPackets {
  private TestPackets() {}

  /** The option bytes of a Linux 6.x SYN: MSS 1460, SACK-permitted, timestamps, NOP, WS 7. */
  public static final byte[] LINUX_SYN_OPTIONS = HexFormat.of().parseHex(
      "020405b4" + "0402" + "080a" + "9a3c1d52" + "00000000" + "01" + "030307");
  /** A Linux SYN-ACK's options: MSS, SACK-permitted, timestamps (echoing), NOP, WS. */
  public static final byte[] LINUX_SYNACK_OPTIONS = HexFormat.of().parseHex(
      "020405b4" + "0402" + "080a" + "11223344" + "9a3c1d52" + "01" + "030307");

  public static byte[] syn(String src, int sport, String dst, int dport, byte[] options) {
    return packet(src, sport, dst, dport, 0x02, new byte[0], options, new byte[0]);
  }

  public static byte[] synAck(String src, int sport, String dst, int dport, byte[] options) {
    return packet(src, sport, dst, dport, 0x12, new byte[0], options, new byte[0]);
  }

  /**
   * A packet with the given TCP flags, IP options (multiple of 4), TCP options (padded here with
   * EOL to a multiple of 4) and payload, with valid checksums.
   */
  public static byte[] packet(String src, int sport, String dst, int dport, int flags,
      byte[] ipOptions, byte[] tcpOptions, byte[] payload) {
    int optLen = (tcpOptions.length + 3) / 4 * 4;
    int ihl = 20 + ipOptions.length;
    int tcpLen = 20 + optLen;
    int total = ihl + tcpLen + payload.length;
    ByteBuffer b = ByteBuffer.allocate(total);
    b.put((byte) (0x40 | (ihl / 4))).put((byte) 0).putShort((short) total);
    b.putShort((short) 0x1234).putShort((short) 0x4000); // id, DF
    b.put((byte) 64).put((byte) 6).putShort((short) 0);
    b.put(addr(src)).put(addr(dst)).put(ipOptions);
    b.putShort((short) sport).putShort((short) dport);
    b.putInt(0x01020304).putInt((flags & 0x10) != 0 ? 0x0a0b0c0d : 0);
    b.put((byte) ((tcpLen / 4) << 4)).put((byte) flags).putShort((short) 64240);
    b.putShort((short) 0).putShort((short) 0);
    b.put(tcpOptions);
    for (int i = tcpOptions.length; i < optLen; i++) {
      b.put((byte) 0);
    }
    b.put(payload);
    byte[] p = b.array();
    int ipc = referenceChecksum(p, 0, ihl, -1);
    p[10] = (byte) (ipc >>> 8);
    p[11] = (byte) ipc;
    int tc = referenceTcpChecksum(p);
    p[ihl + 16] = (byte) (tc >>> 8);
    p[ihl + 17] = (byte) tc;
    return p;
  }

  static byte[] addr(String dotted) {
    String[] parts = dotted.split("\\.");
    byte[] a = new byte[4];
    for (int i = 0; i < 4; i++) {
      a[i] = (byte) Integer.parseInt(parts[i]);
    }
    return a;
  }

  /**
   * Reference Internet checksum written independently: sums 32-bit chunks from a ByteBuffer
   * and folds at the end, rather than Checksums' byte-pair loop.
   */
  public static int referenceChecksum(byte[] data, int off, int len, int zeroAt) {
    byte[] copy = new byte[(len + 3) / 4 * 4];
    System.arraycopy(data, off, copy, 0, len);
    if (zeroAt >= 0 && zeroAt + 1 < len) {
      copy[zeroAt] = 0;
      copy[zeroAt + 1] = 0;
    }
    ByteBuffer bb = ByteBuffer.wrap(copy);
    long sum = 0;
    while (bb.hasRemaining()) {
      long w = bb.getInt() & 0xffffffffL;
      sum += (w >>> 16) + (w & 0xffff);
    }
    return finish(sum);
  }

  private static int finish(long sum) {
    sum = (sum & 0xffff) + (sum >>> 16);
    sum = (sum & 0xffff) + (sum >>> 16);
    sum = (sum & 0xffff) + (sum >>> 16);
    return (int) (0xffff - sum);
  }

  /** Reference TCP checksum of a whole packet, ignoring the checksum now stored in it. */
  public static int referenceTcpChecksum(byte[] p) {
    int ihl = (p[0] & 0x0f) * 4;
    int total = ((p[2] & 0xff) << 8) | (p[3] & 0xff);
    int tcpLen = total - ihl;
    byte[] pseudo = new byte[12 + tcpLen];
    System.arraycopy(p, 12, pseudo, 0, 8);
    pseudo[9] = 6;
    pseudo[10] = (byte) (tcpLen >>> 8);
    pseudo[11] = (byte) tcpLen;
    System.arraycopy(p, ihl, pseudo, 12, tcpLen);
    return referenceChecksum(pseudo, 0, pseudo.length, 12 + 16);
  }

  public static int storedIpChecksum(byte[] p) {
    return ((p[10] & 0xff) << 8) | (p[11] & 0xff);
  }

  public static int storedTcpChecksum(byte[] p) {
    int ihl = (p[0] & 0x0f) * 4;
    return ((p[ihl + 16] & 0xff) << 8) | (p[ihl + 17] & 0xff);
  }
}
