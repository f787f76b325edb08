package net.wanrelay.testsupport;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SplittableRandom;

/** SHA-256 helpers and deterministic pseudo-random payloads for byte-exact transfer checks. */
public final class Hashes {
  private Hashes() {}

  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public static String hex(byte[] digest) {
    return HexFormat.of().formatHex(digest);
  }

  public static String sha256Hex(byte[] data) {
    return hex(sha256().digest(data));
  }

  /** Fills {@code buf} with bytes from a seeded generator, so both ends can recompute the stream. */
  public static void fill(SplittableRandom random, byte[] buf) {
    int i = 0;
    while (i + 8 <= buf.length) {
      long v = random.nextLong();
      for (int k = 0; k < 8; k++) {
        buf[i++] = (byte) (v >>> (k * 8));
      }
    }
    while (i < buf.length) {
      buf[i++] = (byte) random.nextInt();
    }
  }
}
