package net.wanrelay.fuzz;

/** An independent RFC 1071 checksum, written here so the fuzz tests do not trust the code they test. */
final class Inet {
  private Inet() {}

  /** True when the one's-complement sum over the bytes (plus {@code extra}) folds to 0xffff. */
  static boolean sumsToAllOnes(byte[] b, int from, int to, long extra) {
    long sum = extra;
    for (int i = from; i < to; i += 2) {
      int hi = b[i] & 0xff;
      int lo = i + 1 < to ? b[i + 1] & 0xff : 0;
      sum += (hi << 8) | lo;
    }
    while (sum > 0xffff) {
      sum = (sum >>> 16) + (sum & 0xffff);
    }
    return sum == 0xffff;
  }

  static boolean ipHeaderValid(byte[] p) {
    int ihl = (p[0] & 0x0f) * 4;
    return sumsToAllOnes(p, 0, ihl, 0);
  }

  static boolean tcpValid(byte[] p) {
    int ihl = (p[0] & 0x0f) * 4;
    int total = ((p[2] & 0xff) << 8) | (p[3] & 0xff);
    long pseudo = 0;
    for (int i = 12; i < 20; i += 2) {
      pseudo += ((p[i] & 0xff) << 8) | (p[i + 1] & 0xff);
    }
    pseudo += 6 + (total - ihl);
    return sumsToAllOnes(p, ihl, total, pseudo);
  }
}
