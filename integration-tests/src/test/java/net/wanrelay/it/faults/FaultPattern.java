package net.wanrelay.it.faults;

/**
 * Position-addressable pseudo-random bytes: byte {@code i} of stream {@code seed} is a function of
 * (seed, i) only, so a receiver can check that whatever arrived is an exact prefix of what was
 * sent, whatever the read sizes, and the data does not compress.
 */
final class FaultPattern {
  private final long seed;

  FaultPattern(long seed) {
    this.seed = seed;
  }

  /** Fills {@code buf[0..len)} with the stream's bytes starting at {@code position}. */
  void fill(long position, byte[] buf, int len) {
    for (int i = 0; i < len; i++) {
      buf[i] = at(position + i);
    }
  }

  /** Number of leading bytes of {@code buf[0..len)} that equal the stream at {@code position}. */
  int matching(long position, byte[] buf, int len) {
    for (int i = 0; i < len; i++) {
      if (buf[i] != at(position + i)) {
        return i;
      }
    }
    return len;
  }

  byte at(long position) {
    long word = mix(seed * 0x9E3779B97F4A7C15L + (position >>> 3));
    return (byte) (word >>> ((position & 7) * 8));
  }

  /** SplitMix64's finaliser. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
