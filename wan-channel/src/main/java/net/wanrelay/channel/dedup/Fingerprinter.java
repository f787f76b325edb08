package net.wanrelay.channel.dedup;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** Computes chunk fingerprints (truncated SHA-256). Not thread-safe: one per encoder/decoder/store. */
public final class Fingerprinter {
  private final MessageDigest sha256;
  private final byte[] digest = new byte[32];

  public Fingerprinter() {
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java runtime", e);
    }
  }

  public Fingerprint of(byte[] data, int offset, int length) {
    sha256.update(data, offset, length);
    try {
      sha256.digest(digest, 0, digest.length);
    } catch (java.security.DigestException e) {
      throw new IllegalStateException(e);
    }
    return Fingerprint.fromBytes(digest, 0);
  }

  public Fingerprint of(byte[] data) {
    return of(data, 0, data.length);
  }

  /** True when {@code data} hashes to {@code expected}. */
  public boolean matches(Fingerprint expected, byte[] data) {
    return of(data).equals(expected);
  }
}
